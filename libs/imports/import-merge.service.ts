import { Injectable, Logger } from '@nestjs/common';
import { Db } from '../store/db.js';
import { type ImportWrite, mergeImportBatch } from '../store/identity.repository.js';
import { MAX_IMPORT_ERRORS } from './import-staging.js';
import { importProgress, ImportsRepository } from './imports.repository.js';
import { nowSeconds } from '../clock/clock.js';

/**
 * Lines merged per transaction (one progress step each): a batch takes the staged rows of the next MERGE_BATCH_LINES
 * line numbers from the first staged line not merged yet, so it holds at most this many rows (fewer where the body
 * had bad or blank lines).
 */
export const MERGE_BATCH_LINES = 100_000;

export interface MergeOutcome {
  status: 'completed' | 'failed' | 'skipped';
  imported: number;
  changed: number;
  skipped: number;
}

/**
 * Merges a staged import into `identities` (docs/imports.md). The API has already parsed and validated
 * every line and staged the good ones as typed rows; what is left is set-based work the database does best: per
 * batch of rows, find the lines whose twin the importing account does not own (skipped with their numbers) and
 * upsert the rest in one statement, together with the report's progress. Re-running (a retried job, a re-imported
 * file) changes nothing that is already there. Imports write no audit-log rows.
 */
@Injectable()
export class ImportMergeService {
  private readonly logger = new Logger('import-merge');

  constructor(
    private readonly db: Db,
    private readonly imports: ImportsRepository,
  ) {}

  /**
   * `onProgress` is told the percentage of the import's lines processed (0–100, as the report shows it) after
   * every batch: it feeds the job's progress, which the queue dashboard draws as a percentage. `batchLines` is
   * MERGE_BATCH_LINES but in tests.
   */
  async merge(
    importId: string,
    onProgress?: (percent: number) => Promise<void>,
    batchLines = MERGE_BATCH_LINES,
  ): Promise<MergeOutcome> {
    const row = await this.imports.start(importId, nowSeconds());
    if (!row) return { status: 'skipped', imported: 0, changed: 0, skipped: 0 };
    const received = Number(row.received);
    let skipped = Number(row.stage_skipped);
    if (Number(row.present) !== Number(row.staged)) {
      await this.imports.finish(importId, 'failed', nowSeconds(), {
        line: 0,
        subcode: 'staging_lost',
        description: 'The staged rows were lost (a database restart): import the file again',
      });
      return { status: 'failed', imported: 0, changed: 0, skipped };
    }
    // Fresh statistics of the staging table (it just grew by a whole import), so a batch's lines are read by a range
    // scan rather than planned against a table the planner believes empty. Its columns' statistics target is 10
    // (migrations/1764700000000-import-rows-statistics.ts): a 3,000-row sample, not 30,000.
    await this.db.query('ANALYZE import_rows');
    let imported = 0;
    let changed = 0;
    let processed = skipped;
    let after = 0;
    // Every import starts with plain inserts; the first batch that meets an existing key, or repeats one, switches it
    // to upserts.
    let write: ImportWrite = 'insert';
    const began = performance.now();
    for (;;) {
      const batchStarted = performance.now();
      const first = await this.imports.nextLine(importId, after);
      if (first === undefined) break;
      const from = first - 1;
      const last = from + batchLines;
      const merged = await this.db.transaction(async (tx) => {
        // An import is idempotent and re-runnable (a lost merge is retried from its staged rows, or the file is
        // imported again), so a commit lost in a server crash costs nothing: the merge need not wait for its WAL
        // flush. The batch's sort (DISTINCT ON) fits in memory instead of spilling to disk. Each line's twin is
        // found through twins_pkey (a nested loop): a hash join scanned the whole twins table, every account's, for
        // every batch — about half of a batch's time with 1M twins, and growing with the table rather than the batch.
        await tx.query(
          `SET LOCAL synchronous_commit = off; SET LOCAL work_mem = '64MB'; ` +
            `SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off`,
        );
        const outcome = await mergeImportBatch(
          tx,
          {
            importId,
            afterLine: from,
            lastLine: last,
            account: row.account,
            creator: row.creator,
            nowTs: nowSeconds(),
            maxUnknown: MAX_IMPORT_ERRORS,
          },
          write,
        );
        await this.imports.progress(tx, importId, {
          processed: outcome.lines,
          imported: outcome.lines - outcome.skipped,
          changed: outcome.changed,
          skipped: outcome.skipped,
          errors: outcome.unknown.map((u) => ({
            line: Number(u.line),
            subcode: 'twin_not_found',
            description: `Twin ${u.twin} not found or not the importing account's`,
          })),
        });
        return outcome;
      });
      const bad = merged.skipped;
      write = merged.write;
      imported += merged.lines - bad;
      changed += merged.changed;
      skipped += bad;
      processed += merged.lines;
      after = last;
      if (onProgress) await onProgress(importProgress('running', processed, received));
      this.logger.debug(
        `import ${importId}: ${merged.lines} rows by ${write} in ${Math.round(performance.now() - batchStarted)} ms`,
      );
    }
    this.logger.log(
      `import ${importId}: merged ${processed} lines in ${Math.round(performance.now() - began)} ms`,
    );
    await this.imports.finish(importId, 'completed', nowSeconds());
    if (onProgress) await onProgress(importProgress('completed', processed, received));
    return { status: 'completed', imported, changed, skipped };
  }

  async fail(importId: string, description: string): Promise<void> {
    await this.imports.finish(importId, 'failed', nowSeconds(), {
      line: 0,
      subcode: 'import_failed',
      description,
    });
  }
}
