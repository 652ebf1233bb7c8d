import type { Provider } from '@nestjs/common';
import { CONFIG, type TwindexConfig } from '../config/index.js';
import { CommittedChanges } from '../store/committed-changes.js';
import { Db } from '../store/db.js';
import {
  IdentityIndex,
  PostgresIdentityIndex,
  PostgresTwinFactsIndex,
  TwinFactsIndex,
} from '../store/identity-index.js';
import { CachedIdentityIndex } from './cached-identity-index.js';
import { CachedTwinFactsIndex } from './cached-twin-facts-index.js';
import { ChangeFeed } from './change-feed.js';

/**
 * Binds the index interfaces to their cached implementations. The twin cache gets a tenth of the identity
 * cache's bounds: far fewer twins are read (details=true and twin-reading rules) than names are resolved.
 * Each cache follows the change feed (every process's commits, a moment later) and this process's own commits as
 * its writers report them (CommittedChanges, before the write is answered).
 */
export const INDEX_CACHE_PROVIDERS: Provider[] = [
  {
    provide: IdentityIndex,
    inject: [Db, ChangeFeed, CommittedChanges, CONFIG],
    useFactory: (db: Db, feed: ChangeFeed, changes: CommittedChanges, c: TwindexConfig) => {
      const index = new CachedIdentityIndex(new PostgresIdentityIndex(db), feed, {
        maxEntries: c.CACHE_MAX_ENTRIES,
        maxBytes: c.CACHE_MAX_BYTES,
        ttlMs: c.CACHE_TTL_MS,
      });
      changes.listen('identities', (names) => index.invalidate(names));
      return index;
    },
  },
  {
    provide: TwinFactsIndex,
    inject: [Db, ChangeFeed, CommittedChanges, CONFIG],
    useFactory: (db: Db, feed: ChangeFeed, changes: CommittedChanges, c: TwindexConfig) => {
      const index = new CachedTwinFactsIndex(new PostgresTwinFactsIndex(db), feed, {
        maxEntries: Math.max(1, Math.floor(c.CACHE_MAX_ENTRIES / 10)),
        maxBytes: Math.max(1, Math.floor(c.CACHE_MAX_BYTES / 10)),
        ttlMs: c.CACHE_TTL_MS,
      });
      changes.listen('twins', (uuids) => index.invalidate(uuids));
      return index;
    },
  },
];
