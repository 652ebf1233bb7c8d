import type { Queryable } from './db.js';

/**
 * The one writer of `identity_grants`: every statement that inserts, updates or deletes a grant is here, used by
 * sync (reconcile, the full-run sweep) and by sync-source changes alike. A grant always comes from a sync source
 * (include_foreign), so each statement names its source. A source's identities are removed beside its grants, in
 * the caller's transaction, by identity.repository.ts (the writer of `identities`). The index comments say which
 * index each statement walks.
 */

/** One identity of another account that upstream shows on a twin of ours, as the source last saw it. */
export interface SourceGrant {
  name: string;
  owner: string;
  validityTs: number | null;
  createdTs: number;
  updatedTs: number;
}

/** Grants are the rare path (include_foreign): reconciled in SQL, unchanged rows not written. */
export async function reconcileSourceGrants(
  tx: Queryable,
  source: string,
  twin: string,
  account: string,
  grants: readonly SourceGrant[],
): Promise<{ upserted: number; deleted: number }> {
  const granted = await tx.query(
    `INSERT INTO identity_grants AS g (name, twin, owner, grantee, source, validity_ts, created_ts, updated_ts)
     SELECT u.name, $1::uuid, u.owner, $2::uuid, $3::uuid, u.validity_ts, u.created_ts, u.updated_ts
       FROM unnest($4::text[], $5::uuid[], $6::float8[], $7::float8[], $8::float8[])
            AS u(name, owner, validity_ts, created_ts, updated_ts)
     ON CONFLICT (name, twin, owner, grantee) DO UPDATE SET
       source = EXCLUDED.source, validity_ts = EXCLUDED.validity_ts, created_ts = EXCLUDED.created_ts,
       updated_ts = EXCLUDED.updated_ts
     WHERE (g.source, g.validity_ts, g.created_ts, g.updated_ts) IS DISTINCT FROM
           (EXCLUDED.source, EXCLUDED.validity_ts, EXCLUDED.created_ts, EXCLUDED.updated_ts)
     RETURNING 1`,
    [
      twin,
      account,
      source,
      grants.map((g) => g.name),
      grants.map((g) => g.owner),
      grants.map((g) => g.validityTs),
      grants.map((g) => g.createdTs),
      grants.map((g) => g.updatedTs),
    ],
  );
  // identity_grants_source_idx (source, twin).
  const revoked = await tx.query(
    `DELETE FROM identity_grants g WHERE g.source = $1 AND g.twin = $2
        AND NOT EXISTS (SELECT 1 FROM unnest($3::text[], $4::uuid[]) AS u(name, owner)
                         WHERE u.name = g.name AND u.owner = g.owner)
     RETURNING 1`,
    [source, twin, grants.map((g) => g.name), grants.map((g) => g.owner)],
  );
  return { upserted: granted.length, deleted: revoked.length };
}

/**
 * Every grant of the source goes (identity_grants_source_idx): include_foreign switched off, or the source is
 * deleted (then with its identities, by identity.repository.ts).
 */
export async function revokeSourceGrants(tx: Queryable, source: string): Promise<void> {
  await tx.query(`DELETE FROM identity_grants WHERE source = $1`, [source]);
}

/**
 * The source's grants on these twins go (identity_grants_source_idx): upstream answered 404 for a twin, or a full
 * run's sweep found twins the scan no longer saw. Returns how many went (counted in the database: one row back).
 */
export async function revokeSourceGrantsOfTwins(
  tx: Queryable,
  source: string,
  twins: readonly string[],
): Promise<number> {
  const rows = await tx.query<{ n: number }>(
    `WITH d AS (DELETE FROM identity_grants WHERE source = $1 AND twin = ANY($2::uuid[]) RETURNING 1)
     SELECT count(*)::int AS n FROM d`,
    [source, twins],
  );
  return rows[0].n;
}
