import { Injectable } from '@nestjs/common';
import { Db } from '../store/db.js';

export interface PrincipalRow {
  fingerprint: string;
  secret_validity_ts: number | null;
  account: string;
  account_name: string;
  user_uuid: string;
  user_name: string;
  user_status: string;
  user_description: Record<string, unknown>;
  role_uuid: string;
  role_name: string;
  effect: 'allow' | 'deny';
  actions: string[] | null;
  twin_rule: string | null;
  identity_rule: string | null;
  permission_operations: string[];
}

// One round trip per cold key: secrets' primary key, then users/roles/accounts by primary key,
// and the user's active permissions through permission_assignments_user_idx.
const LOAD_PRINCIPAL = `
  SELECT s.fingerprint, s.validity_ts AS secret_validity_ts,
         a.uuid AS account, a.name AS account_name,
         u.uuid AS user_uuid, u.name AS user_name, u.status AS user_status, u.description AS user_description,
         r.uuid AS role_uuid, r.name AS role_name, r.effect, r.actions, r.twin_rule, r.identity_rule,
         COALESCE(ARRAY(SELECT DISTINCT unnest(p.operations)
                          FROM permission_assignments pa JOIN permissions p ON p.id = pa.permission_id
                         WHERE pa.user_uuid = u.uuid AND NOT p.is_archived), '{}') AS permission_operations
    FROM secrets s
    JOIN users u ON u.uuid = s.user_uuid
    JOIN roles r ON r.uuid = u.role
    JOIN accounts a ON a.uuid = u.account
   WHERE s.hash = $1`;

// A user token names its secret by (user, fingerprint): the secrets' unique index on those columns.
const LOAD_PRINCIPAL_BY_FINGERPRINT = LOAD_PRINCIPAL.replace(
  'WHERE s.hash = $1',
  'WHERE s.user_uuid = $1 AND s.fingerprint = $2',
);

@Injectable()
export class PrincipalRepository {
  constructor(private readonly db: Db) {}

  async findBySecretHash(hash: Buffer): Promise<PrincipalRow | undefined> {
    const rows = await this.db.prepared<PrincipalRow>('load_principal', LOAD_PRINCIPAL, [hash]);
    return rows[0];
  }

  async findBySecretFingerprint(user: string, fingerprint: string): Promise<PrincipalRow | undefined> {
    const rows = await this.db.prepared<PrincipalRow>(
      'load_principal_by_fingerprint',
      LOAD_PRINCIPAL_BY_FINGERPRINT,
      [user, fingerprint],
    );
    return rows[0];
  }

  /** Throttled by the caller; kept out of `secrets` so it fires no change notification. */
  async touch(hashes: Buffer[], nowTs: number): Promise<void> {
    if (hashes.length === 0) return;
    await this.db.query(
      `INSERT INTO secret_usage (hash, last_used_ts)
       SELECT h, $2 FROM unnest($1::bytea[]) AS h WHERE EXISTS (SELECT 1 FROM secrets WHERE hash = h)
       ON CONFLICT (hash) DO UPDATE SET last_used_ts = EXCLUDED.last_used_ts`,
      [hashes, nowTs],
    );
  }
}
