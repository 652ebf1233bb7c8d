import { Injectable } from '@nestjs/common';
import { badRequest } from '../domain/errors.js';
import { CommittedChanges } from './committed-changes.js';
import { Db, type Queryable, type TransactionQueryable } from './db.js';
import { type IndexedTwin, toIndexedTwin, TWIN_COLUMNS, type TwinRow } from './identity-index.js';
import { lockAccountTwins } from './twin-delete-lock.js';

/** A position in the (updated_ts, uuid) order of GET /twins. */
export interface TwinScanPosition {
  updatedTs: number;
  uuid: string;
}

export interface TwinScanQuery {
  /** Only twins of this owner; undefined = every owner. */
  owner?: string;
  /** Strictly after this position. */
  after?: TwinScanPosition;
  /** Only twins with updated_ts >= this. */
  updatedSince?: number;
  limit: number;
}

/**
 * The one writer of `twins`: the API's create, describe and terminate (the class below), and sync's statements for
 * mirrored twins (the functions after it). Writes run inside the caller's transaction (so the audit row, or the run's
 * books, commit with them); the class's reads run on the pool. The class's writes report the twin they changed to
 * CommittedChanges, so this process's cache forgets it before the write is answered.
 */
@Injectable()
export class TwinRepository {
  constructor(
    private readonly db: Db,
    private readonly changes: CommittedChanges,
  ) {}

  async find(uuid: string): Promise<IndexedTwin | undefined> {
    const rows = await this.db.query<TwinRow>(`SELECT ${TWIN_COLUMNS} FROM twins WHERE uuid = $1`, [uuid]);
    return rows[0] && toIndexedTwin(rows[0]);
  }

  /** Reads and row-locks a twin for a read-check-write sequence. */
  async findForUpdate(tx: Queryable, uuid: string): Promise<IndexedTwin | undefined> {
    const rows = await tx.query<TwinRow>(`SELECT ${TWIN_COLUMNS} FROM twins WHERE uuid = $1 FOR UPDATE`, [
      uuid,
    ]);
    return rows[0] && toIndexedTwin(rows[0]);
  }

  async insert(
    tx: TransactionQueryable,
    twin: { uuid: string; owner: string; description: Record<string, unknown>; nowTs: number },
  ): Promise<IndexedTwin> {
    const rows = await storing(() =>
      tx.query<TwinRow>(
        `INSERT INTO twins (uuid, owner, status, description, creator, created_ts, updated_ts)
         VALUES ($1, $2, 'alive', $3::jsonb, $2, $4, $4)
         RETURNING ${TWIN_COLUMNS}`,
        [twin.uuid, twin.owner, JSON.stringify(twin.description), twin.nowTs],
      ),
    );
    return this.written(tx, rows[0]);
  }

  async updateDescription(
    tx: TransactionQueryable,
    uuid: string,
    description: Record<string, unknown>,
    nowTs: number,
  ): Promise<IndexedTwin> {
    const rows = await storing(() =>
      tx.query<TwinRow>(
        `UPDATE twins SET description = $2::jsonb, updated_ts = $3 WHERE uuid = $1 RETURNING ${TWIN_COLUMNS}`,
        [uuid, JSON.stringify(description), nowTs],
      ),
    );
    return this.written(tx, rows[0]);
  }

  async terminate(
    tx: TransactionQueryable,
    uuid: string,
    issuer: string,
    nowTs: number,
  ): Promise<IndexedTwin> {
    const rows = await tx.query<TwinRow>(
      `UPDATE twins SET status = 'terminated', terminated_ts = $3, terminator = $2, updated_ts = $3
        WHERE uuid = $1 RETURNING ${TWIN_COLUMNS}`,
      [uuid, issuer, nowTs],
    );
    return this.written(tx, rows[0]);
  }

  private written(tx: TransactionQueryable, row: TwinRow): IndexedTwin {
    this.changes.changed(tx, 'twins', [row.uuid]);
    return toIndexedTwin(row);
  }

  /** One page of twins in (updated_ts, uuid) order. */
  async scan(query: TwinScanQuery): Promise<IndexedTwin[]> {
    const params: unknown[] = [];
    const where: string[] = [];
    if (query.owner !== undefined) {
      params.push(query.owner);
      where.push(`owner = $${params.length}`);
    }
    if (query.after !== undefined) {
      params.push(query.after.updatedTs, query.after.uuid);
      where.push(`(updated_ts, uuid) > ($${params.length - 1}, $${params.length}::uuid)`);
    }
    if (query.updatedSince !== undefined) {
      params.push(query.updatedSince);
      where.push(`updated_ts >= $${params.length}`);
    }
    params.push(query.limit);
    // twins_owner_updated_idx (owner, updated_ts, uuid) for one owner, twins_updated_idx (updated_ts, uuid) otherwise.
    const rows = await this.db.query<TwinRow>(
      `SELECT ${TWIN_COLUMNS} FROM twins ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY updated_ts, uuid LIMIT $${params.length}`,
      params,
    );
    return rows.map(toIndexedTwin);
  }
}

/**
 * jsonb refuses the NUL character (\u0000) that JSON allows; that is bad input, not a server failure.
 * 22P05 = untranslatable_character, 22021 = character_not_in_repertoire.
 */
async function storing<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === '22P05' || code === '22021') {
      throw badRequest(
        'invalid_description',
        'Description contains a character PostgreSQL cannot store (\\u0000)',
      );
    }
    throw e;
  }
}

/** A twin as an upstream source shows it (libs/sync/reconcile-plan.ts plans it). */
export interface SyncedTwin {
  uuid: string;
  owner: string;
  status: 'alive' | 'terminated';
  description: Record<string, unknown>;
  creator: string;
  createdTs: number;
  updatedTs: number;
  terminatedTs: number | null;
  terminator: string | null;
}

/** $1…$10 of both twin statements below, in column order. */
function twinParams(t: SyncedTwin, source: string): unknown[] {
  return [
    t.uuid,
    t.owner,
    t.status,
    JSON.stringify(t.description),
    t.creator,
    t.createdTs,
    t.updatedTs,
    t.terminatedTs,
    t.terminator,
    source,
  ];
}

/** A twin new to the index (it cannot appear meanwhile: every sync of it holds its lock). */
export async function insertSyncedTwin(
  tx: TransactionQueryable,
  t: SyncedTwin,
  source: string,
): Promise<void> {
  await tx.prepared(
    'sync_reconcile_insert_twin',
    `INSERT INTO twins (uuid, owner, status, description, creator, created_ts, updated_ts, terminated_ts, terminator,
                        source)
     VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9, $10)
     ON CONFLICT (uuid) DO NOTHING`,
    twinParams(t, source),
  );
}

/**
 * Inserts the twin, or updates a synced one when upstream changed it. A twin created through this instance's API
 * (source NULL) is never overwritten by an upstream.
 */
export async function upsertSyncedTwin(
  tx: TransactionQueryable,
  t: SyncedTwin,
  source: string,
): Promise<void> {
  await tx.prepared(
    'sync_reconcile_upsert_twin',
    `INSERT INTO twins AS tw (uuid, owner, status, description, creator, created_ts, updated_ts, terminated_ts,
                              terminator, source)
     VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9, $10)
     ON CONFLICT (uuid) DO UPDATE SET
       owner = EXCLUDED.owner, status = EXCLUDED.status, description = EXCLUDED.description,
       creator = EXCLUDED.creator, created_ts = EXCLUDED.created_ts, updated_ts = EXCLUDED.updated_ts,
       terminated_ts = EXCLUDED.terminated_ts, terminator = EXCLUDED.terminator
     WHERE tw.source = EXCLUDED.source AND
       (tw.owner, tw.status, tw.description, tw.creator, tw.created_ts, tw.updated_ts, tw.terminated_ts, tw.terminator)
       IS DISTINCT FROM (EXCLUDED.owner, EXCLUDED.status, EXCLUDED.description, EXCLUDED.creator, EXCLUDED.created_ts,
                         EXCLUDED.updated_ts, EXCLUDED.terminated_ts, EXCLUDED.terminator)`,
    twinParams(t, source),
  );
}

/**
 * Locks the twin's key (KEY SHARE) for the rest of the transaction, so that it cannot be deleted before identities
 * written onto it commit: identities keep no foreign key to twins (docs/imports.md, "Integrity without a per-row
 * key"), and removeOrphanSyncedTwins waits for this lock. False when the twin does not exist (any more).
 * The API and sync call this before they add identities to one twin; an import batch holds its account's
 * twin-delete lock instead (twin-delete-lock.ts).
 */
export async function lockTwinKey(tx: TransactionQueryable, twin: string): Promise<boolean> {
  // twins_pkey. KEY SHARE conflicts only with a delete (or a key change), not with updates of the twin's row.
  const rows = await tx.prepared('twin_lock_key', `SELECT 1 FROM twins WHERE uuid = $1 FOR KEY SHARE`, [
    twin,
  ]);
  return rows.length > 0;
}

/**
 * Removes synced twins (never ones created through the API) that no source still has and no identity or grant
 * points at. Returns how many went.
 *
 * The one statement that deletes twins; identities keep no foreign key to them (docs/imports.md, "Integrity without
 * a per-row key"). Before it decides, it waits for every writer that may be attaching identities to a candidate: the
 * API and sync hold the twin's key lock (lockTwinKey), which FOR UPDATE waits for; an import batch holds its
 * account's twin-delete lock shared, which is taken here exclusive for each owner. The delete then runs on a fresh
 * snapshot (READ COMMITTED) that sees what they committed, so a twin that just got an identity stays; a writer that
 * comes later finds the twin gone. A twin goes only with no identity on it: no identity outlives its twin.
 */
export async function removeOrphanSyncedTwins(tx: Queryable, twins: readonly string[]): Promise<number> {
  if (twins.length === 0) return 0;
  // twins_pkey. In UUID order, as every writer locks (no deadlock between deletes).
  const candidates = await tx.query<{ owner: string }>(
    `SELECT owner FROM twins WHERE uuid = ANY($1::uuid[]) AND source IS NOT NULL ORDER BY uuid FOR UPDATE`,
    [twins],
  );
  if (candidates.length === 0) return 0;
  // Locked rows cannot change owner any more: these are the accounts whose imports could attach to them.
  for (const owner of [...new Set(candidates.map((c) => c.owner))].sort()) {
    await lockAccountTwins(tx, owner, 'exclusive');
  }
  // twins_pkey; sync_twins_twin_idx; identities_twin_idx; identity_grants_twin_idx.
  const rows = await tx.query<{ uuid: string }>(
    `DELETE FROM twins t
      WHERE t.uuid = ANY($1::uuid[]) AND t.source IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM sync_twins s WHERE s.twin = t.uuid AND s.present)
        AND NOT EXISTS (SELECT 1 FROM identities i WHERE i.twin = t.uuid)
        AND NOT EXISTS (SELECT 1 FROM identity_grants g WHERE g.twin = t.uuid)
      RETURNING t.uuid`,
    [twins],
  );
  return rows.length;
}
