import { Injectable } from '@nestjs/common';
import { CommittedChanges } from './committed-changes.js';
import { Db, type Queryable, type TransactionQueryable } from './db.js';
import { lockAccountTwins } from './twin-delete-lock.js';

/** An identity as stored, with what its API object shows. */
export interface StoredIdentity {
  name: string;
  twin: string;
  owner: string;
  visibility: string | null;
  validityTs: number | null;
  createdTs: number;
  updatedTs: number;
  creator: string;
  /** Set on a synced grant (identity_grants), which only its grantee ever sees. */
  grantee?: string | null;
}

export interface IdentityKey {
  name: string;
  twin: string;
  owner: string;
}

export interface NewIdentity {
  name: string;
  visibility: string | null;
  validityTs: number | null;
}

/** Attributes given replace; absent ones stay. */
export interface IdentityChanges {
  visibility?: string | null;
  validityTs?: number | null;
}

interface IdentityTableRow {
  name: string;
  twin: string;
  owner: string;
  visibility: string | null;
  validity_ts: number | null;
  created_ts: number;
  updated_ts: number;
  creator: string;
}

const COLUMNS = `name, twin, owner, visibility, validity_ts, created_ts, updated_ts, creator`;

/**
 * The identities table for the write API and listings; resolution reads through IdentityIndex instead. Each write
 * reports the names it changed to CommittedChanges, so this process's cache forgets them before the write is answered.
 */
@Injectable()
export class IdentityRepository {
  constructor(
    private readonly db: Db,
    private readonly changes: CommittedChanges,
  ) {}

  /** Every identity on one twin, of every owner, plus the synced grants on it to `grantee`. */
  async listByTwin(twin: string, grantee: string): Promise<StoredIdentity[]> {
    // identities_twin_idx (twin, owner) and identity_grants_twin_idx (twin). A grant has no creator of its own:
    // the grantee stands in (the listing shows foreign entries without it anyway).
    const rows = await this.db.query<IdentityTableRow & { grantee: string | null }>(
      `SELECT ${COLUMNS}, NULL::uuid AS grantee FROM identities WHERE twin = $1
       UNION ALL
       SELECT name, twin, owner, NULL, validity_ts, created_ts, updated_ts, grantee, grantee
         FROM identity_grants WHERE twin = $1 AND grantee = $2`,
      [twin, grantee],
    );
    return rows.map((r) => ({ ...toStoredIdentity(r), grantee: r.grantee }));
  }

  async find(key: IdentityKey): Promise<StoredIdentity | undefined> {
    // identities_pkey (name, twin, owner).
    const rows = await this.db.query<IdentityTableRow>(
      `SELECT ${COLUMNS} FROM identities WHERE name = $1 AND twin = $2 AND owner = $3`,
      [key.name, key.twin, key.owner],
    );
    return rows[0] && toStoredIdentity(rows[0]);
  }

  /**
   * Inserts the identities that do not exist yet and returns them; names already held by `owner` on `twin` are
   * left untouched and reported in `existing`, so the caller can roll the whole batch back. The caller holds the
   * twin's key lock (lockTwinKey in twin.repository.ts): no foreign key checks that the twin exists.
   */
  async insertMany(
    tx: TransactionQueryable,
    twin: string,
    owner: string,
    creator: string,
    nowTs: number,
    identities: readonly NewIdentity[],
  ): Promise<{ inserted: StoredIdentity[]; existing: string[] }> {
    const rows = await tx.query<IdentityTableRow>(
      `INSERT INTO identities (name, twin, owner, visibility, validity_ts, created_ts, updated_ts, creator)
       SELECT n, $1::uuid, $2::uuid, v, vt, $4, $4, $3::uuid
         FROM unnest($5::text[], $6::text[], $7::float8[]) AS u(n, v, vt)
       ON CONFLICT (name, twin, owner) DO NOTHING
       RETURNING ${COLUMNS}`,
      [
        twin,
        owner,
        creator,
        nowTs,
        identities.map((i) => i.name),
        identities.map((i) => i.visibility),
        identities.map((i) => i.validityTs),
      ],
    );
    const inserted = rows.map(toStoredIdentity);
    this.changes.changed(
      tx,
      'identities',
      inserted.map((i) => i.name),
    );
    const done = new Set(inserted.map((i) => i.name));
    return { inserted, existing: identities.filter((i) => !done.has(i.name)).map((i) => i.name) };
  }

  async update(
    tx: TransactionQueryable,
    key: IdentityKey,
    changes: IdentityChanges,
    nowTs: number,
  ): Promise<StoredIdentity | undefined> {
    const rows = await tx.query<IdentityTableRow>(
      `UPDATE identities
          SET visibility = CASE WHEN $4 THEN $5 ELSE visibility END,
              validity_ts = CASE WHEN $6 THEN $7::float8 ELSE validity_ts END,
              updated_ts = $8
        WHERE name = $1 AND twin = $2 AND owner = $3
        RETURNING ${COLUMNS}`,
      [
        key.name,
        key.twin,
        key.owner,
        changes.visibility !== undefined,
        changes.visibility ?? null,
        changes.validityTs !== undefined,
        changes.validityTs ?? null,
        nowTs,
      ],
    );
    return this.written(tx, rows[0]);
  }

  async delete(tx: TransactionQueryable, key: IdentityKey): Promise<StoredIdentity | undefined> {
    const rows = await tx.query<IdentityTableRow>(
      `DELETE FROM identities WHERE name = $1 AND twin = $2 AND owner = $3 RETURNING ${COLUMNS}`,
      [key.name, key.twin, key.owner],
    );
    return this.written(tx, rows[0]);
  }

  private written(tx: TransactionQueryable, row: IdentityTableRow | undefined): StoredIdentity | undefined {
    if (row === undefined) return undefined;
    this.changes.changed(tx, 'identities', [row.name]);
    return toStoredIdentity(row);
  }
}

function toStoredIdentity(row: IdentityTableRow): StoredIdentity {
  return {
    name: row.name,
    twin: row.twin,
    owner: row.owner,
    visibility: row.visibility,
    validityTs: row.validity_ts,
    createdTs: row.created_ts,
    updatedTs: row.updated_ts,
    creator: row.creator,
  };
}

// Sync and imports write identities through the functions below, the API through IdentityRepository above: every
// statement that writes `identities` is in this file (a source's grants are grant-writer.ts's).

/** An identity as an upstream source shows it (libs/sync/reconcile-plan.ts plans it). */
export interface SyncedIdentity {
  name: string;
  /** undefined: upstream did not say, keep what is stored (new rows are private). */
  visibility: string | null | undefined;
  validityTs: number | null;
  createdTs: number;
  updatedTs: number;
}

/**
 * Inserts identities the source does not hold yet; returns the names inserted (a key already taken is skipped).
 * An insert without DO UPDATE fires only the insert notification trigger: the common case of a first sync.
 */
export async function insertSyncedIdentities(
  tx: TransactionQueryable,
  twin: string,
  account: string,
  source: string,
  rows: readonly SyncedIdentity[],
): Promise<string[]> {
  const inserted = await tx.prepared<{ name: string }>(
    'sync_reconcile_insert_identities',
    `INSERT INTO identities (name, twin, owner, visibility, validity_ts, created_ts, updated_ts, creator, source)
     SELECT u.name, $1::uuid, $2::uuid, u.visibility, u.validity_ts, u.created_ts, u.updated_ts, $2::uuid, $3::uuid
       FROM unnest($4::text[], $5::text[], $6::float8[], $7::float8[], $8::float8[])
            AS u(name, visibility, validity_ts, created_ts, updated_ts)
     ON CONFLICT (name, twin, owner) DO NOTHING
     RETURNING name`,
    syncedRowParams(twin, account, source, rows),
  );
  return inserted.map((r) => r.name);
}

/** $1…$8 of the two statements above and below: the twin, its account and source, then the rows as columns. */
function syncedRowParams(
  twin: string,
  account: string,
  source: string,
  rows: readonly SyncedIdentity[],
): unknown[] {
  return [
    twin,
    account,
    source,
    rows.map((p) => p.name),
    rows.map((p) => p.visibility ?? null),
    rows.map((p) => p.validityTs),
    rows.map((p) => p.createdTs),
    rows.map((p) => p.updatedTs),
  ];
}

/** One set-based upsert; rows whose attributes are unchanged are not written (and notify nothing). */
export async function upsertSyncedIdentities(
  tx: TransactionQueryable,
  twin: string,
  account: string,
  source: string,
  rows: readonly SyncedIdentity[],
  withVisibility: boolean,
): Promise<number> {
  const visibility = withVisibility ? 'EXCLUDED.visibility' : 'i.visibility';
  // identities_pkey (name, twin, owner) decides the conflict; a row of another source (or written through the API)
  // with the same key is taken over by this source.
  const written = await tx.prepared(
    withVisibility ? 'sync_reconcile_upsert_identities_rule' : 'sync_reconcile_upsert_identities',
    `INSERT INTO identities AS i (name, twin, owner, visibility, validity_ts, created_ts, updated_ts, creator, source)
     SELECT u.name, $1::uuid, $2::uuid, u.visibility, u.validity_ts, u.created_ts, u.updated_ts, $2::uuid, $3::uuid
       FROM unnest($4::text[], $5::text[], $6::float8[], $7::float8[], $8::float8[])
            AS u(name, visibility, validity_ts, created_ts, updated_ts)
     ON CONFLICT (name, twin, owner) DO UPDATE SET
       visibility = ${visibility}, validity_ts = EXCLUDED.validity_ts, created_ts = EXCLUDED.created_ts,
       updated_ts = EXCLUDED.updated_ts, source = EXCLUDED.source
     WHERE (i.visibility, i.validity_ts, i.created_ts, i.updated_ts, i.source) IS DISTINCT FROM
           (${visibility}, EXCLUDED.validity_ts, EXCLUDED.created_ts, EXCLUDED.updated_ts, EXCLUDED.source)
     RETURNING 1`,
    syncedRowParams(twin, account, source, rows),
  );
  return written.length;
}

/** The source's identities on the twin that upstream no longer has (by name and owner); returns how many went. */
export async function deleteSyncedIdentities(
  tx: TransactionQueryable,
  source: string,
  twin: string,
  names: readonly string[],
  owners: readonly string[],
): Promise<number> {
  const rows = await tx.prepared(
    'sync_reconcile_delete_identities',
    `DELETE FROM identities i USING unnest($3::text[], $4::uuid[]) AS u(name, owner)
          WHERE i.name = u.name AND i.twin = $2 AND i.owner = u.owner AND i.source = $1
         RETURNING 1`,
    [source, twin, names, owners],
  );
  return rows.length;
}

/**
 * Every identity the source wrote goes (identities_source_idx): the source is deleted. Its grants go beside them
 * (grant-writer.ts), in the caller's transaction.
 */
export async function deleteSourceIdentities(tx: Queryable, source: string): Promise<void> {
  await tx.query(`DELETE FROM identities WHERE source = $1`, [source]);
}

/**
 * The source's identities on these twins go (identities_source_idx): upstream answered 404 for a twin, or a full
 * run's sweep found twins the scan no longer saw. Returns how many went (counted in the database: one row back).
 */
export async function deleteSourceIdentitiesOfTwins(
  tx: Queryable,
  source: string,
  twins: readonly string[],
): Promise<number> {
  const rows = await tx.query<{ n: number }>(
    `WITH d AS (DELETE FROM identities WHERE source = $1 AND twin = ANY($2::uuid[]) RETURNING 1)
     SELECT count(*)::int AS n FROM d`,
    [source, twins],
  );
  return rows[0].n;
}

/** How a batch is written: a plain insert (no key of it exists yet) or an upsert (see mergeImportBatch). */
export type ImportWrite = 'insert' | 'upsert';

/** One batch of one import, as mergeImportBatch writes it. */
export interface ImportBatch {
  importId: string;
  /** Lines after `afterLine`, up to `lastLine` included. */
  afterLine: number;
  lastLine: number;
  account: string;
  creator: string | null;
  nowTs: number;
  /** How many of the lines skipped for an unknown twin to answer (the first, by line). */
  maxUnknown: number;
}

/** What the merge of a batch did. */
export interface ImportBatchOutcome {
  write: ImportWrite;
  /** Staged lines of the batch. */
  lines: number;
  /** Lines skipped: their twin is not one the importing account owns alive. */
  skipped: number;
  /** Identities the batch added or changed (a line that repeats what is stored writes nothing). */
  changed: number;
  /** The first `maxUnknown` of those, by line. */
  unknown: Array<{ line: number; twin: string }>;
}

// One statement per batch of staged rows: $1 import, $2..$3 line range, $4 account, $5 now, $6 creator, $7 how
// many skipped lines to answer.
// `b` reads the batch once and joins each row to its twin (one join over twins); rows whose twin is not the
// account's and alive are skipped and counted, the first $7 answered by line, and the rest are written. A later
// line for the same key wins, as it would line by line (DISTINCT ON … line DESC).
// Identities keep no foreign key to twins (its per-row lookup and lock were ~40 % of a merge): the join above proves
// each twin exists, and the account's twin-delete lock, held shared by the batch's transaction (mergeImportBatch)
// since before this statement's snapshot, keeps it so until commit — one lock per batch, none per row. See
// docs/imports.md.
// The upsert does not write rows that would not change (no new row version, no change notification). The plain
// insert skips ON CONFLICT's speculative insertion (an index probe and one more WAL record per row: 407k WAL
// records against 302k for 100k rows) and the DISTINCT ON sort (10–30 % of a batch); it is only correct while no key
// of the batch exists yet and none repeats in it — else it fails on the key and the batch is upserted.
const importBatchSql = (write: ImportWrite) => `
  WITH b AS MATERIALIZED (
    SELECT r.line, r.twin, r.name, r.visibility, r.validity_ts, t.uuid IS NOT NULL AS own
      FROM import_rows r
      LEFT JOIN twins t ON t.uuid = r.twin AND t.owner = $4 AND t.status = 'alive'
     WHERE r.import = $1 AND r.line > $2 AND r.line <= $3),
  w AS (
    INSERT INTO identities (name, twin, owner, visibility, validity_ts, created_ts, updated_ts, creator)
    SELECT ${write === 'insert' ? '' : 'DISTINCT ON (name, twin) '}name, twin, $4::uuid, visibility, validity_ts,
           $5, $5, $6::uuid
      FROM b WHERE own${
        write === 'insert'
          ? ''
          : `
     ORDER BY name, twin, line DESC
    ON CONFLICT (name, twin, owner) DO UPDATE
      SET visibility = EXCLUDED.visibility, validity_ts = EXCLUDED.validity_ts, updated_ts = EXCLUDED.updated_ts
      WHERE identities.visibility IS DISTINCT FROM EXCLUDED.visibility
         OR identities.validity_ts IS DISTINCT FROM EXCLUDED.validity_ts`
      }
    RETURNING 1)
  SELECT count(*) AS lines, count(*) FILTER (WHERE NOT own) AS skipped, (SELECT count(*) FROM w) AS changed,
         (SELECT coalesce(json_agg(json_build_object('line', u.line, 'twin', u.twin) ORDER BY u.line), '[]')
            FROM (SELECT line, twin FROM b WHERE NOT own ORDER BY line LIMIT $7) AS u) AS unknown
    FROM b`;

const IMPORT_BATCH: Record<ImportWrite, string> = {
  insert: importBatchSql('insert'),
  upsert: importBatchSql('upsert'),
};

interface ImportBatchRow {
  lines: string;
  skipped: string;
  changed: string;
  unknown: Array<{ line: number; twin: string }>;
}

/**
 * Merges one batch of an import's staged rows. `insert` is tried in a savepoint: when a key of the batch
 * already exists (a re-import, or names the account already holds) or repeats within the batch, it fails with
 * unique_violation at that row, is
 * rolled back, and the batch is upserted instead; the caller is told which write it took, so that the
 * following batches of such an import go straight to the upsert.
 */
export async function mergeImportBatch(
  tx: Queryable,
  b: ImportBatch,
  write: ImportWrite,
): Promise<ImportBatchOutcome> {
  const params = [b.importId, b.afterLine, b.lastLine, b.account, b.nowTs, b.creator, b.maxUnknown];
  // Before the merge statement, so that its snapshot already shows any twin delete that held the lock.
  await lockAccountTwins(tx, b.account, 'shared');
  const outcome = ([r]: ImportBatchRow[], taken: ImportWrite): ImportBatchOutcome => ({
    write: taken,
    lines: Number(r.lines),
    skipped: Number(r.skipped),
    changed: Number(r.changed),
    unknown: r.unknown,
  });
  if (write === 'insert') {
    await tx.query('SAVEPOINT import_insert');
    try {
      const rows = await tx.query<ImportBatchRow>(IMPORT_BATCH.insert, params);
      await tx.query('RELEASE SAVEPOINT import_insert');
      return outcome(rows, 'insert');
    } catch (e) {
      if ((e as { code?: string }).code !== UNIQUE_VIOLATION) throw e;
      await tx.query('ROLLBACK TO SAVEPOINT import_insert');
    }
  }
  return outcome(await tx.query<ImportBatchRow>(IMPORT_BATCH.upsert, params), 'upsert');
}

const UNIQUE_VIOLATION = '23505';
