import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * How often the worker's run reaper queued a run's lost work again: a scan or twin job that keeps vanishing (a job
 * that kills its worker every time, a Redis that keeps losing it) ends as a failure with its reason after
 * `SYNC_REAPER_MAX_REQUEUES`, instead of being queued again forever and leaving the run open.
 */
export class ReaperRequeues1764300000000 implements MigrationInterface {
  name = 'ReaperRequeues1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE sync_runs ADD COLUMN scan_requeues integer NOT NULL DEFAULT 0;
      ALTER TABLE sync_run_twins ADD COLUMN requeues integer NOT NULL DEFAULT 0;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE sync_run_twins DROP COLUMN requeues;
      ALTER TABLE sync_runs DROP COLUMN scan_requeues;
    `);
  }
}
