import { InitialSchema1763900000000 } from './1763900000000-initial-schema.js';
import { Sync1763990000000 } from './1763990000000-sync.js';
import { Imports1764000000000 } from './1764000000000-imports.js';
import { TrustedTwinCompat1764100000000 } from './1764100000000-trusted-twin-compat.js';
import { TokenActions1764100000001 } from './1764100000001-token-actions.js';
import { ImportRows1764200000000 } from './1764200000000-import-rows.js';
import { ReaperRequeues1764300000000 } from './1764300000000-reaper-requeues.js';
import { BulkChangeNotify1764310000000 } from './1764310000000-bulk-change-notify.js';
import { ImportChanged1764400000000 } from './1764400000000-import-changed.js';
import { BulkChangeNames1764500000000 } from './1764500000000-bulk-change-names.js';
import { IdentitiesTwinKey1764500000001 } from './1764500000001-identities-twin-key.js';
import { ExplainAction1764500000003 } from './1764500000003-explain-action.js';
import { Notifications1764600000000 } from './1764600000000-notifications.js';
import { ImportRowsStatistics1764700000000 } from './1764700000000-import-rows-statistics.js';

/** Every migration, oldest first. Listed explicitly so ts (tests) and compiled js (dist) load the same set. */
export const migrations = [
  InitialSchema1763900000000,
  Sync1763990000000,
  Imports1764000000000,
  TrustedTwinCompat1764100000000,
  TokenActions1764100000001,
  ImportRows1764200000000,
  ReaperRequeues1764300000000,
  BulkChangeNotify1764310000000,
  ImportChanged1764400000000,
  BulkChangeNames1764500000000,
  IdentitiesTwinKey1764500000001,
  ExplainAction1764500000003,
  Notifications1764600000000,
  ImportRowsStatistics1764700000000,
];
