import { Injectable } from '@nestjs/common';
import { Db } from '../store/db.js';
import { IMPORT_OWN_TWINS, mergeImportBatch } from '../store/identity.repository.js';
import type { LineError } from './import-line-parser.js';
import { MAX_IMPORT_ERRORS } from './import-staging.js';
import { ImportsRepository } from './imports.repository.js';
import { nowSeconds } from '../store/clock.js';

/** Staged rows merged per transaction (one progress step each). */
export const MERGE_BATCH_ROWS = 100_000;

export interface MergeOutcome {
  status: 'completed' | 'failed' | 'skipped';
  imported: number;
  skipped: number;
}

// Lines whose twin is not one of those: skipped with their numbers (the first 1,000 of the batch), and counted.
const UNKNOWN_TWIN_LINES = `
  WITH ${IMPORT_OWN_TWINS}
  SELECT r.line, r.twin, count(*) OVER () AS total
    FROM import_rows r
   WHERE r.import = $1 AND r.line > $2 AND r.line <= $3 AND r.twin NOT IN (SELECT uuid FROM own)
   ORDER BY r.line LIMIT ${MAX_IMPORT_ERRORS}`;

/**
 * Merges a staged import into `identities` (sync.md "Bulk imports"). The API has already parsed and validated
 * every line and staged the good ones as typed rows; what is left is set-based work the database does best: per
 * batch of rows, find the lines whose twin the importing account does not own (skipped with their numbers) and
 * upsert the rest in one statement, together with the report's progress. Re-running (a retried job, a re-imported
 * file) changes nothing that is already there. Imports write no audit-log rows.
 */
@Injectable()
export class ImportMergeService {
  constructor(
    private readonly db: Db,
    private readonly imports: ImportsRepository,
  ) {}

  async merge(importId: string, onProgress?: (processed: number) => Promise<void>): Promise<MergeOutcome> {
    const row = await this.imports.start(importId, nowSeconds());
    if (!row) return { status: 'skipped', imported: 0, skipped: 0 };
    let skipped = Number(row.stage_skipped);
    if (Number(row.present) !== Number(row.staged)) {
      await this.imports.finish(importId, 'failed', nowSeconds(), {
        line: 0,
        subcode: 'staging_lost',
        description: 'The staged rows were lost (a database restart): import the file again',
      });
      return { status: 'failed', imported: 0, skipped };
    }
    // Fresh statistics of the staging table (it just grew by a whole import), so the batches are planned as hash
    // joins rather than nested loops over a table the planner believes empty.
    await this.db.query('ANALYZE import_rows');
    let imported = 0;
    let processed = skipped;
    let after = 0;
    for (;;) {
      const batch = await this.imports.nextBatch(importId, after, MERGE_BATCH_ROWS);
      if (!batch) break;
      const range = [importId, after, batch.last, row.account];
      const good = await this.db.transaction(async (tx) => {
        const unknown = await tx.query<{ line: string; twin: string; total: string }>(
          UNKNOWN_TWIN_LINES,
          range,
        );
        const errors: LineError[] = unknown.map((u) => ({
          line: Number(u.line),
          subcode: 'twin_not_found',
          description: `Twin ${u.twin} not found or not the importing account's`,
        }));
        const bad = unknown.length === 0 ? 0 : Number(unknown[0].total);
        if (bad < batch.rows) await mergeImportBatch(tx, range, nowSeconds(), row.creator);
        await this.imports.progress(tx, importId, {
          processed: batch.rows,
          imported: batch.rows - bad,
          skipped: bad,
          errors,
        });
        return batch.rows - bad;
      });
      imported += good;
      skipped += batch.rows - good;
      processed += batch.rows;
      after = batch.last;
      if (onProgress) await onProgress(processed);
    }
    await this.imports.finish(importId, 'completed', nowSeconds());
    return { status: 'completed', imported, skipped };
  }

  async fail(importId: string, description: string): Promise<void> {
    await this.imports.finish(importId, 'failed', nowSeconds(), {
      line: 0,
      subcode: 'import_failed',
      description,
    });
  }
}
