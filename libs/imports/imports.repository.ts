import { Injectable } from '@nestjs/common';
import { Db, type Queryable } from '../store/db.js';
import type { ImportFormat, ReceivedLine } from './import-lines.js';
import type { LineError } from './import-line-parser.js';

export type ImportStatus = 'queued' | 'running' | 'completed' | 'failed';

/** At most this many bad lines are kept in a report. */
export const MAX_IMPORT_ERRORS = 1_000;

export interface ImportRow {
  uuid: string;
  account: string;
  creator: string;
  format: ImportFormat;
  status: ImportStatus;
  received: string;
  processed: string;
  imported: string;
  skipped: string;
  errors: LineError[];
  created_ts: number;
  started_ts: number | null;
  finished_ts: number | null;
}

export interface ImportView {
  uuid: string;
  status: ImportStatus;
  progress: number;
  counts: { received: number; imported: number; skipped: number };
  errors: LineError[];
  created_ts: number;
  finished_ts: number | null;
}

export interface StagedLine {
  line: string;
  raw: string | null;
  problem: string | null;
}

export function importView(row: ImportRow): ImportView {
  const received = Number(row.received);
  const processed = Number(row.processed);
  const progress =
    row.status === 'completed'
      ? 100
      : received === 0
        ? 0
        : Math.min(99, Math.floor((processed * 100) / received));
  return {
    uuid: row.uuid,
    status: row.status,
    progress,
    counts: { received, imported: Number(row.imported), skipped: Number(row.skipped) },
    errors: row.errors,
    created_ts: row.created_ts,
    finished_ts: row.finished_ts,
  };
}

/** The `imports` report rows and their staged lines. */
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

  /** One set-based INSERT per batch (three arrays, whatever the batch size: no bind-parameter limit). */
  async stage(q: Queryable, importId: string, lines: readonly ReceivedLine[]): Promise<void> {
    if (lines.length === 0) return;
    await q.query(
      `INSERT INTO import_lines (import, line, raw, problem)
         SELECT $1, l, r, p FROM unnest($2::bigint[], $3::text[], $4::text[]) AS t(l, r, p)`,
      [importId, lines.map((l) => l.line), lines.map((l) => l.raw), lines.map((l) => l.problem)],
    );
  }

  async setReceived(q: Queryable, importId: string, received: number): Promise<void> {
    await q.query(`UPDATE imports SET received = $2 WHERE uuid = $1`, [importId, received]);
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

  /** Starts (or restarts, after a crash) the merge: the report is recomputed from the first line. */
  async start(importId: string, nowTs: number): Promise<ImportRow | undefined> {
    const rows = await this.db.query<ImportRow>(
      `UPDATE imports SET status = 'running', started_ts = $2, processed = 0, imported = 0, skipped = 0,
              errors = '[]'
        WHERE uuid = $1 AND status IN ('queued', 'running') RETURNING *`,
      [importId, nowTs],
    );
    return rows[0];
  }

  async lines(importId: string, afterLine: number, limit: number): Promise<StagedLine[]> {
    return this.db.query<StagedLine>(
      `SELECT line, raw, problem FROM import_lines WHERE import = $1 AND line > $2 ORDER BY line LIMIT $3`,
      [importId, afterLine, limit],
    );
  }

  /** Adds one batch's outcome to the report; errors beyond the first 1,000 are counted, not kept. */
  async progress(
    q: Queryable,
    importId: string,
    delta: { processed: number; imported: number; skipped: number; errors: LineError[] },
  ): Promise<void> {
    await q.query(
      `UPDATE imports SET processed = processed + $2, imported = imported + $3, skipped = skipped + $4,
              errors = CASE WHEN jsonb_array_length(errors) >= ${MAX_IMPORT_ERRORS} THEN errors
                            ELSE errors || (SELECT coalesce(jsonb_agg(e), '[]'::jsonb) FROM (
                              SELECT e FROM jsonb_array_elements($5::jsonb) AS e
                              LIMIT ${MAX_IMPORT_ERRORS} - jsonb_array_length(errors)) AS x) END
        WHERE uuid = $1`,
      [importId, delta.processed, delta.imported, delta.skipped, JSON.stringify(delta.errors)],
    );
  }

  async finish(
    importId: string,
    status: 'completed' | 'failed',
    nowTs: number,
    error?: LineError,
  ): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query(
        `UPDATE imports SET status = $2, finished_ts = $3,
                errors = CASE WHEN $4::jsonb IS NULL THEN errors ELSE errors || $4::jsonb END
          WHERE uuid = $1`,
        [importId, status, nowTs, error ? JSON.stringify([error]) : null],
      );
      // The staged body is no longer needed once merged (or given up on).
      await tx.query(`DELETE FROM import_lines WHERE import = $1`, [importId]);
    });
  }

  /** Identity names visible for merging: the twins of this batch that exist, are alive and the account owns. */
  async ownTwins(q: Queryable, account: string, twins: readonly string[]): Promise<Set<string>> {
    if (twins.length === 0) return new Set();
    const rows = await q.query<{ uuid: string }>(
      `SELECT uuid FROM twins WHERE uuid = ANY($1::uuid[]) AND owner = $2 AND status = 'alive'`,
      [twins, account],
    );
    return new Set(rows.map((r) => r.uuid));
  }
}
