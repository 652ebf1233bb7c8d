import { Injectable } from '@nestjs/common';
import { Db, type Queryable } from '../store/db.js';
import type { ImportFormat } from './line-splitter.js';
import type { LineError } from './record-parser.js';

import { MAX_IMPORT_ERRORS, type StageTally } from './import-staging.js';
import { reportProgress } from '../domain/sync/report-progress.js';

export type ImportStatus = 'queued' | 'running' | 'completed' | 'failed';

export { MAX_IMPORT_ERRORS };

export interface ImportRow {
  uuid: string;
  account: string;
  creator: string;
  format: ImportFormat;
  status: ImportStatus;
  received: string;
  processed: string;
  imported: string;
  changed: string;
  skipped: string;
  errors: LineError[];
  staged: string;
  stage_skipped: string;
  stage_errors: LineError[];
  created_ts: number;
  started_ts: number | null;
  finished_ts: number | null;
}

export interface ImportView {
  uuid: string;
  status: ImportStatus;
  progress: number;
  /**
   * `imported`: good lines merged (a line repeating what is stored counts too); `changed`: identities the import
   * added or changed, none for a re-import of the same file; `skipped`: bad lines.
   */
  counts: { received: number; imported: number; changed: number; skipped: number };
  errors: LineError[];
  created_ts: number;
  finished_ts: number | null;
}

/** Percent of the received lines processed, 0–100; 100 only once the import is completed. */
/** The import's progress in percent, by the rule every report shares (libs/domain/sync/report-progress.ts). */
export function importProgress(status: ImportStatus, processed: number, received: number): number {
  return reportProgress(status === 'completed', processed, received);
}

export function importView(row: ImportRow): ImportView {
  const received = Number(row.received);
  return {
    uuid: row.uuid,
    status: row.status,
    progress: importProgress(row.status, Number(row.processed), received),
    counts: {
      received,
      imported: Number(row.imported),
      changed: Number(row.changed),
      skipped: Number(row.skipped),
    },
    errors: row.errors,
    created_ts: row.created_ts,
    finished_ts: row.finished_ts,
  };
}

/** The `imports` report rows and their staged rows. */
@Injectable()
export class ImportsRepository {
  constructor(private readonly db: Db) {}

  async create(
    q: Queryable,
    row: { uuid: string; account: string; creator: string; format: ImportFormat; createdTs: number },
  ): Promise<void> {
    await q.query(
      `INSERT INTO imports (uuid, account, creator, format, status, created_ts) VALUES ($1, $2, $3, $4, 'queued', $5)`,
      [row.uuid, row.account, row.creator, row.format, row.createdTs],
    );
  }

  async find(importId: string): Promise<ImportRow | undefined> {
    const rows = await this.db.query<ImportRow>(`SELECT * FROM imports WHERE uuid = $1`, [importId]);
    return rows[0];
  }

  async list(account: string, limit: number): Promise<ImportRow[]> {
    return this.db.query<ImportRow>(
      `SELECT * FROM imports WHERE account = $1 ORDER BY created_ts DESC, uuid LIMIT $2`,
      [account, limit],
    );
  }

  /** What staging found, stored with the rows in the same transaction. */
  async setStaged(q: Queryable, importId: string, tally: StageTally): Promise<void> {
    await q.query(
      `UPDATE imports SET received = $2, staged = $3, stage_skipped = $4, stage_errors = $5::jsonb,
              processed = $4, skipped = $4, errors = $5::jsonb
        WHERE uuid = $1`,
      [importId, tally.received, tally.staged, tally.skipped, JSON.stringify(tally.errors)],
    );
  }

  /** An import whose merge could not be queued is taken back whole: the client was told it failed. */
  async remove(importId: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query(`DELETE FROM import_rows WHERE import = $1`, [importId]);
      await tx.query(`DELETE FROM imports WHERE uuid = $1`, [importId]);
    });
  }

  /**
   * Starts (or restarts, after a crash) the merge: the report is recomputed from what staging found. Also answers
   * how many staged rows are still there (an UNLOGGED table is emptied by a database crash).
   */
  async start(importId: string, nowTs: number): Promise<(ImportRow & { present: string }) | undefined> {
    const rows = await this.db.query<ImportRow & { present: string }>(
      `UPDATE imports SET status = 'running', started_ts = $2, processed = stage_skipped, imported = 0,
              changed = 0, skipped = stage_skipped, errors = stage_errors
        WHERE uuid = $1 AND status IN ('queued', 'running')
        RETURNING *, (SELECT count(*) FROM import_rows WHERE import = $1) AS present`,
      [importId, nowTs],
    );
    return rows[0];
  }

  /**
   * The first staged line after `afterLine`, or undefined when there is none: one probe of import_rows_pkey. (Finding
   * where a batch of N rows ends instead reads N index entries, and their heap rows, since a freshly staged table
   * has no visibility map: 15–30 ms per 100k rows.)
   */
  async nextLine(importId: string, afterLine: number): Promise<number | undefined> {
    const [row] = await this.db.query<{ line: string | null }>(
      `SELECT min(line) AS line FROM import_rows WHERE import = $1 AND line > $2`,
      [importId, afterLine],
    );
    return row?.line == null ? undefined : Number(row.line);
  }

  /**
   * Adds one batch's outcome to the report. The errors stay the first 1,000 by line number, whichever stage found
   * them (staging finds bad lines all over the body before the merge finds unknown twins).
   */
  async progress(
    q: Queryable,
    importId: string,
    delta: { processed: number; imported: number; changed: number; skipped: number; errors: LineError[] },
  ): Promise<void> {
    await q.query(
      `UPDATE imports SET processed = processed + $2, imported = imported + $3, skipped = skipped + $4,
              changed = changed + $6,
              errors = CASE WHEN jsonb_array_length($5::jsonb) = 0 THEN errors ELSE (
                SELECT coalesce(jsonb_agg(e ORDER BY (e->>'line')::bigint), '[]'::jsonb) FROM (
                  SELECT e FROM (SELECT jsonb_array_elements(errors) AS e
                                 UNION ALL SELECT jsonb_array_elements($5::jsonb)) AS a
                   ORDER BY (e->>'line')::bigint LIMIT ${MAX_IMPORT_ERRORS}) AS x) END
        WHERE uuid = $1`,
      [importId, delta.processed, delta.imported, delta.skipped, JSON.stringify(delta.errors), delta.changed],
    );
  }

  async finish(
    importId: string,
    status: 'completed' | 'failed',
    nowTs: number,
    error?: LineError,
  ): Promise<void> {
    await this.db.query(
      `UPDATE imports SET status = $2, finished_ts = $3,
              errors = CASE WHEN $4::jsonb IS NULL THEN errors ELSE errors || $4::jsonb END
        WHERE uuid = $1`,
      [importId, status, nowTs, error ? JSON.stringify([error]) : null],
    );
    // The staged rows are no longer needed once merged (or given up on). Deleted after the report says so: a
    // failure here leaves rows the sweep removes later, never a wrong report.
    await this.dropRows(importId);
  }

  async dropRows(importId: string): Promise<void> {
    await this.db.query(`DELETE FROM import_rows WHERE import = $1`, [importId]);
  }

  /**
   * The rows an account's unfinished imports hold staged, read under a per-account transaction lock so two uploads
   * of one account cannot both pass the staging cap (docs/imports.md "Fair shares"). Call inside the transaction
   * that stores the next import.
   */
  async lockStagedRows(tx: Queryable, account: string): Promise<number> {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended('twindex.import-staging:' || $1, 0))`, [
      account,
    ]);
    // imports_account_idx narrows to the account; its unfinished imports are few (IMPORT_QUEUED_PER_ACCOUNT).
    const rows = await tx.query<{ staged: string }>(
      `SELECT COALESCE(sum(staged), 0) AS staged FROM imports WHERE account = $1 AND status IN ('queued', 'running')`,
      [account],
    );
    return Number(rows[0]?.staged ?? 0);
  }

  /** The same sum without the lock: a cheap refusal before an upload is read. */
  async stagedRows(account: string): Promise<number> {
    const rows = await this.db.query<{ staged: string }>(
      `SELECT COALESCE(sum(staged), 0) AS staged FROM imports WHERE account = $1 AND status IN ('queued', 'running')`,
      [account],
    );
    return Number(rows[0]?.staged ?? 0);
  }

  /** Imports not finished and older than `olderThanTs`: the sweep checks each has a merge job. */
  async unfinished(olderThanTs: number, limit: number): Promise<Array<{ uuid: string; account: string }>> {
    return this.db.query<{ uuid: string; account: string }>(
      `SELECT uuid, account FROM imports WHERE status IN ('queued', 'running') AND created_ts < $1
        ORDER BY created_ts LIMIT $2`,
      [olderThanTs, limit],
    );
  }

  /** Staged rows left behind by an import that is finished (or gone). */
  async orphanedRowImports(limit: number): Promise<string[]> {
    const rows = await this.db.query<{ import: string }>(
      `SELECT DISTINCT r.import FROM (SELECT import FROM import_rows LIMIT 100000) AS r
         LEFT JOIN imports i ON i.uuid = r.import
        WHERE i.uuid IS NULL OR i.status IN ('completed', 'failed') LIMIT $1`,
      [limit],
    );
    return rows.map((r) => r.import);
  }
}
