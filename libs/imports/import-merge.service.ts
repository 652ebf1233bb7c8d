import { Injectable } from '@nestjs/common';
import { Db } from '../store/db.js';
import {
  type ImportRecord,
  isCsvHeader,
  type LineError,
  LineProblem,
  parseCsvLine,
  parseImportLine,
} from './import-line-parser.js';
import { ImportsRepository } from './imports.repository.js';
import { nowSeconds } from '../store/clock.js';

/** Staged lines read and merged per transaction. */
export const MERGE_BATCH_LINES = 25_000;

export interface MergeOutcome {
  status: 'completed' | 'failed' | 'skipped';
  imported: number;
  skipped: number;
}

const MISSING_HEADER: LineError = {
  line: 1,
  subcode: 'invalid_csv',
  description: 'A CSV import starts with the header line twin,identity,visibility,validity_ts',
};

/**
 * Merges a stored import into `identities` (sync.md "Bulk imports"): per batch of staged lines, parse and validate
 * each line, keep those on twins the importing account owns, and upsert them in one set-based statement on
 * (name, twin, owner) together with the report's progress. Re-running (a retried job, a re-imported file) changes
 * nothing that is already there. Imports write no audit-log rows.
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
    let after = 0;
    let imported = 0;
    let skipped = 0;
    let processed = 0;
    // The next batch is read while this one is written.
    let next = this.imports.lines(importId, after, MERGE_BATCH_LINES);
    for (;;) {
      const staged = await next;
      if (staged.length === 0) break;
      next = this.imports.lines(importId, Number(staged[staged.length - 1].line), MERGE_BATCH_LINES);
      // Not awaited until the next turn: keep a failure from being reported as unhandled meanwhile.
      next.catch(() => undefined);
      // A CSV body whose line 1 is blank has no header.
      if (row.format === 'csv' && after === 0 && Number(staged[0].line) !== 1) {
        await this.imports.finish(importId, 'failed', nowSeconds(), MISSING_HEADER);
        return { status: 'failed', imported: 0, skipped: 0 };
      }
      after = Number(staged[staged.length - 1].line);
      const errors: LineError[] = [];
      const records: Array<{ line: number; record: ImportRecord }> = [];
      for (const s of staged) {
        const line = Number(s.line);
        if (row.format === 'csv' && line === 1) {
          if (s.raw === null || !isHeader(s.raw)) {
            await this.imports.finish(importId, 'failed', nowSeconds(), MISSING_HEADER);
            return { status: 'failed', imported: 0, skipped: 0 };
          }
          continue;
        }
        if (s.raw === null) {
          errors.push({ line, subcode: 'invalid_line', description: s.problem ?? 'unreadable line' });
          continue;
        }
        try {
          records.push({ line, record: parseImportLine(row.format, s.raw) });
        } catch (e) {
          if (!(e instanceof LineProblem)) throw e;
          errors.push({ line, subcode: e.subcode, description: e.message });
        }
      }
      const batchLines = records.length + errors.length;
      await this.db.transaction(async (tx) => {
        // The twins stay as they are (not deleted, not handed over) until this batch commits.
        const twins = [...new Set(records.map((r) => r.record.twin))];
        const own =
          twins.length === 0
            ? new Set<string>()
            : new Set(
                (
                  await tx.query<{ uuid: string }>(
                    `SELECT uuid FROM twins WHERE uuid = ANY($1::uuid[]) AND owner = $2 AND status = 'alive'
                      FOR KEY SHARE`,
                    [twins, row.account],
                  )
                ).map((r) => r.uuid),
              );
        // One row per key: a later line for the same (name, twin) wins, as it would line by line.
        const rows = new Map<string, ImportRecord>();
        let good = 0;
        for (const { line, record } of records) {
          if (!own.has(record.twin)) {
            errors.push({
              line,
              subcode: 'twin_not_found',
              description: `Twin ${record.twin} not found or not the importing account's`,
            });
            continue;
          }
          good++;
          rows.set(`${record.twin}\u0000${record.name}`, record);
        }
        errors.sort((a, b) => a.line - b.line);
        if (rows.size > 0) {
          const list = [...rows.values()];
          const ts = nowSeconds();
          await tx.query(
            `INSERT INTO identities (name, twin, owner, visibility, validity_ts, created_ts, updated_ts, creator)
               SELECT n, t, $1::uuid, v, vt, $2, $2, $3::uuid
                 FROM unnest($4::text[], $5::uuid[], $6::text[], $7::float8[]) AS u(n, t, v, vt)
             ON CONFLICT (name, twin, owner) DO UPDATE
               SET visibility = EXCLUDED.visibility, validity_ts = EXCLUDED.validity_ts, updated_ts = EXCLUDED.updated_ts
               WHERE identities.visibility IS DISTINCT FROM EXCLUDED.visibility
                  OR identities.validity_ts IS DISTINCT FROM EXCLUDED.validity_ts`,
            [
              row.account,
              ts,
              row.creator,
              list.map((r) => r.name),
              list.map((r) => r.twin),
              list.map((r) => r.visibility),
              list.map((r) => r.validityTs),
            ],
          );
        }
        await this.imports.progress(tx, importId, {
          processed: batchLines,
          imported: good,
          skipped: errors.length,
          errors,
        });
        imported += good;
        skipped += errors.length;
      });
      processed += batchLines;
      if (onProgress) await onProgress(processed);
    }
    if (row.format === 'csv' && after === 0) {
      await this.imports.finish(importId, 'failed', nowSeconds(), MISSING_HEADER);
      return { status: 'failed', imported, skipped };
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

function isHeader(raw: string): boolean {
  try {
    return isCsvHeader(parseCsvLine(raw));
  } catch {
    return false;
  }
}
