import { Injectable } from '@nestjs/common';
import { revokeSourceGrantsOfTwins } from '../store/grant-writer.js';
import { deleteSourceIdentitiesOfTwins } from '../store/identity.repository.js';
import { Db, type Queryable, type TransactionQueryable } from '../store/db.js';
import type { SyncMode } from '../queue/job-catalogue.js';
import { removeOrphanSyncedTwins } from '../store/twin.repository.js';

export type RunStatus = 'queued' | 'running' | 'completed' | 'failed';
export type RunTrigger = 'api' | 'schedule';

/** One entry of a run report's `errors` (the last 20 are kept). */
export interface RunError {
  /** The twin the error is about; null for the scan. */
  twin: string | null;
  description: string;
  ts: number;
}

export interface SyncRun {
  uuid: string;
  source: string;
  account: string;
  mode: SyncMode;
  trigger: RunTrigger;
  status: RunStatus;
  twins: number;
  done: number;
  failed: number;
  upserted: number;
  deleted: number;
  retries: number;
  scanDone: boolean;
  updatedSince: number | null;
  errors: RunError[];
  createdTs: number;
  startedTs: number | null;
  finishedTs: number | null;
}

interface RunRow {
  uuid: string;
  source: string;
  account: string;
  mode: SyncMode;
  trigger: RunTrigger;
  status: RunStatus;
  twins: number;
  done: number;
  failed: number;
  upserted: string;
  deleted: string;
  retries: number;
  scan_done: boolean;
  updated_since: number | null;
  errors: RunError[];
  created_ts: number;
  started_ts: number | null;
  finished_ts: number | null;
}

const COLUMNS = `uuid, source, account, mode, trigger, status, twins, done, failed, upserted, deleted, retries, scan_done,
  updated_since, errors, created_ts, started_ts, finished_ts`;

/**
 * A run with its counters: while it goes they are summed from its twins' outcomes (sync_run_twins_pkey range),
 * once finished they are the totals stored on the row.
 */
const REPORT = `SELECT r.uuid, r.source, r.account, r.mode, r.trigger, r.status, r.twins, r.scan_done, r.updated_since,
    r.errors, r.created_ts, r.started_ts, r.finished_ts,
    r.done + COALESCE(a.done, 0) AS done, r.failed + COALESCE(a.failed, 0) AS failed,
    r.upserted + COALESCE(a.upserted, 0) AS upserted, r.deleted + COALESCE(a.deleted, 0) AS deleted,
    r.retries + COALESCE(a.retries, 0) AS retries
  FROM sync_runs r
  LEFT JOIN LATERAL (
    SELECT count(*) FILTER (WHERE done AND NOT failed)::int AS done, count(*) FILTER (WHERE failed)::int AS failed,
           sum(upserted)::bigint AS upserted, sum(deleted)::bigint AS deleted, sum(retries)::int AS retries
      FROM sync_run_twins WHERE run = r.uuid AND r.status IN ('queued', 'running')) a ON true`;

export const MAX_RUN_ERRORS = 20;

/** sync_run_twins_pending_run_idx: stops at the first pending twin. */
const PENDING = `SELECT EXISTS (SELECT 1 FROM sync_run_twins WHERE run = $1 AND NOT done) AS pending`;

/** `errors || $n` keeping the newest MAX_RUN_ERRORS, oldest first. */
const appendErrors = (param: string) => `(SELECT COALESCE(jsonb_agg(e ORDER BY n), '[]'::jsonb) FROM (
    SELECT e, n FROM jsonb_array_elements(errors || ${param}::jsonb) WITH ORDINALITY AS a(e, n)
    ORDER BY n DESC LIMIT ${MAX_RUN_ERRORS}) newest)`;

/**
 * Records a twin's outcome on its pending rows queued before `fetchStartTs`, for runs of the source still going.
 * sync_run_twins_pending_twin_idx; each run's row is only read, never locked.
 */
const MARK_PENDING = (outcome: string) => `
  UPDATE sync_run_twins rt SET done = true, ${outcome}
    FROM sync_runs r
   WHERE rt.twin = $2::uuid AND NOT rt.done AND rt.queued_ts <= $3::float8
     AND r.uuid = rt.run AND r.source = $1::uuid AND r.status IN ('queued', 'running')
  RETURNING rt.run`;

@Injectable()
export class SyncRunsRepository {
  constructor(private readonly db: Db) {}

  async create(
    q: Queryable,
    run: {
      uuid: string;
      source: string;
      account: string;
      mode: SyncMode;
      trigger: RunTrigger;
      nowTs: number;
    },
  ): Promise<SyncRun> {
    const rows = await q.query<RunRow>(
      `INSERT INTO sync_runs (uuid, source, account, mode, trigger, status, created_ts)
       VALUES ($1, $2, $3, $4, $5, 'queued', $6) RETURNING ${COLUMNS}`,
      [run.uuid, run.source, run.account, run.mode, run.trigger, run.nowTs],
    );
    return toRun(rows[0]);
  }

  async get(uuid: string, account?: string): Promise<SyncRun | undefined> {
    const rows = await this.db.query<RunRow>(
      `${REPORT} WHERE r.uuid = $1 AND ($2::uuid IS NULL OR r.account = $2)`,
      [uuid, account ?? null],
    );
    return rows[0] && toRun(rows[0]);
  }

  /** Newest first. sync_runs_account_idx / sync_runs_source_idx. */
  async list(account: string, options: { source?: string; limit: number }): Promise<SyncRun[]> {
    const rows = await this.db.query<RunRow>(
      `${REPORT} WHERE r.account = $1 AND ($2::uuid IS NULL OR r.source = $2)
        ORDER BY r.created_ts DESC, r.uuid LIMIT $3`,
      [account, options.source ?? null, options.limit],
    );
    return rows.map(toRun);
  }

  /** A run that could not be queued: it never existed. */
  async discard(uuid: string): Promise<void> {
    await this.db.query(`DELETE FROM sync_runs WHERE uuid = $1 AND status = 'queued'`, [uuid]);
  }

  /** Start time of the source's latest completed run: an incremental run asks upstream for what changed since. */
  async lastCompletedStart(source: string): Promise<number | null> {
    const rows = await this.db.query<{ started_ts: number | null }>(
      `SELECT max(started_ts) AS started_ts FROM sync_runs WHERE source = $1 AND status = 'completed'`,
      [source],
    );
    return rows[0]?.started_ts ?? null;
  }

  /** queued → running (idempotent: a resumed scan keeps the first start time and `updated_since`). */
  async start(uuid: string, nowTs: number, updatedSince: number | null): Promise<SyncRun | undefined> {
    const rows = await this.db.query<RunRow>(
      `UPDATE sync_runs SET status = 'running', started_ts = COALESCE(started_ts, $2),
              updated_since = CASE WHEN started_ts IS NULL THEN $3 ELSE updated_since END
        WHERE uuid = $1 AND status IN ('queued', 'running') RETURNING ${COLUMNS}`,
      [uuid, nowTs, updatedSince],
    );
    return rows[0] && toRun(rows[0]);
  }

  /** Records twins the scan saw; a twin seen twice (it moved pages while we paged) counts once. */
  async addTwins(uuid: string, twins: readonly string[], nowTs: number): Promise<number> {
    if (twins.length === 0) return 0;
    return this.db.transaction(async (tx) => {
      const added = await tx.query<{ twin: string }>(
        `INSERT INTO sync_run_twins (run, twin, queued_ts)
         SELECT $1, t, $3 FROM unnest($2::uuid[]) AS t
         ON CONFLICT (run, twin) DO NOTHING RETURNING twin`,
        [uuid, twins, nowTs],
      );
      if (added.length) {
        await tx.query(`UPDATE sync_runs SET twins = twins + $2 WHERE uuid = $1`, [uuid, added.length]);
      }
      return added.length;
    });
  }

  async finishScan(uuid: string, retries: number): Promise<void> {
    await this.db.query(
      `UPDATE sync_runs SET scan_done = true, retries = retries + $2 WHERE uuid = $1 AND status = 'running'`,
      [uuid, retries],
    );
  }

  async addRetries(uuid: string, retries: number): Promise<void> {
    if (retries > 0)
      await this.db.query(`UPDATE sync_runs SET retries = retries + $2 WHERE uuid = $1`, [uuid, retries]);
  }

  /** The scan failed for good: the run is over (no sweep), and its pending rows are dropped. */
  async fail(uuid: string, error: RunError): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query(
        `UPDATE sync_runs SET status = 'failed', finished_ts = $2, errors = ${appendErrors('$3')}
          WHERE uuid = $1 AND status IN ('queued', 'running')`,
        [uuid, error.ts, JSON.stringify([error])],
      );
      await tx.query(`DELETE FROM sync_run_twins WHERE run = $1`, [uuid]);
    });
  }

  /**
   * Inside a twin's reconcile transaction: records the twin as synced, with the rows that changed, for every run of
   * the source that was waiting for it. Returns those runs.
   */
  async markTwinSynced(
    tx: TransactionQueryable,
    m: {
      source: string;
      twin: string;
      fetchStartTs: number;
      upserted: number;
      deleted: number;
      retries: number;
      errors: RunError[];
      /** Also records (in the same statement) whether upstream had the twin, as of this fetch. */
      present?: boolean;
    },
  ): Promise<string[]> {
    const rows = await tx.prepared<{ run: string }>(
      'sync_mark_twin_synced',
      `WITH state AS (
         INSERT INTO sync_twins (source, twin, present, fetched_ts)
         SELECT $1::uuid, $2::uuid, $7::boolean, $3::float8 WHERE $7::boolean IS NOT NULL
         ON CONFLICT (source, twin) DO UPDATE SET present = EXCLUDED.present, fetched_ts = EXCLUDED.fetched_ts
       )
       ${MARK_PENDING('upserted = $4, deleted = $5, retries = $6')}`,
      [m.source, m.twin, m.fetchStartTs, m.upserted, m.deleted, m.retries, m.present ?? null],
    );
    const runs = rows.map((r) => r.run);
    // Rare (entries upstream had that cannot be stored): the run row is written only then.
    if (m.errors.length && runs.length) await this.appendErrors(tx, runs, m.errors);
    return runs;
  }

  /** A twin job failed for good: counted as failed (with its reason) by every run that was waiting for it. */
  async markTwinFailed(m: {
    source: string;
    twin: string;
    fetchStartTs: number;
    retries: number;
    error: RunError;
  }): Promise<string[]> {
    return this.db.transaction(async (tx) => {
      const rows = await tx.query<{ run: string }>(MARK_PENDING('failed = true, retries = $4'), [
        m.source,
        m.twin,
        m.fetchStartTs,
        m.retries,
      ]);
      const runs = rows.map((r) => r.run);
      if (runs.length) await this.appendErrors(tx, runs, [m.error]);
      return runs;
    });
  }

  private async appendErrors(
    tx: Queryable,
    runs: readonly string[],
    errors: readonly RunError[],
  ): Promise<void> {
    await tx.query(`UPDATE sync_runs SET errors = ${appendErrors('$2')} WHERE uuid = ANY($1::uuid[])`, [
      [...runs].sort(),
      JSON.stringify(errors),
    ]);
  }

  /** Runs still going that were created more than `graceSeconds` ago (by the database's clock): the reaper's list. */
  async unfinishedRuns(
    graceSeconds: number,
  ): Promise<Array<{ uuid: string; source: string; account: string; mode: SyncMode; scanDone: boolean }>> {
    const rows = await this.db.query<{
      uuid: string;
      source: string;
      account: string;
      mode: SyncMode;
      scan_done: boolean;
    }>(
      `SELECT uuid, source, account, mode, scan_done FROM sync_runs
        WHERE status IN ('queued', 'running') AND created_ts < extract(epoch FROM clock_timestamp()) - $1`,
      [graceSeconds],
    );
    return rows.map((r) => ({
      uuid: r.uuid,
      source: r.source,
      account: r.account,
      mode: r.mode,
      scanDone: r.scan_done,
    }));
  }

  /** Twins of the run still waited for, queued more than `graceSeconds` ago. sync_run_twins_pending_run_idx. */
  async pendingTwins(run: string, graceSeconds: number, limit: number): Promise<string[]> {
    const rows = await this.db.query<{ twin: string }>(
      `SELECT twin FROM sync_run_twins
        WHERE run = $1 AND NOT done AND queued_ts < extract(epoch FROM clock_timestamp()) - $2
        LIMIT $3`,
      [run, graceSeconds, limit],
    );
    return rows.map((r) => r.twin);
  }

  /**
   * The reaper found these pending twins of the run without a job: counts one more re-queue for each and answers
   * which may be queued again and which have been re-queued `max` times already. Those are failed for this run
   * (with one error naming the count), so the run can end with true counts. sync_run_twins_pkey.
   */
  async requeueLostTwins(
    run: string,
    twins: readonly string[],
    max: number,
    nowTs: number,
  ): Promise<{ again: string[]; failed: string[] }> {
    return this.db.transaction(async (tx) => {
      const counted = await tx.query<{ twin: string; requeues: number }>(
        `UPDATE sync_run_twins SET requeues = requeues + 1
          WHERE run = $1 AND twin = ANY($2::uuid[]) AND NOT done AND requeues < $3
          RETURNING twin, requeues`,
        [run, [...twins].sort(), max],
      );
      const failed = await tx.query<{ twin: string }>(
        `UPDATE sync_run_twins SET done = true, failed = true
          WHERE run = $1 AND twin = ANY($2::uuid[]) AND NOT done AND requeues >= $3
            AND NOT (twin = ANY($4::uuid[]))
          RETURNING twin`,
        [run, [...twins].sort(), max, counted.map((c) => c.twin)],
      );
      if (failed.length) {
        const description = `sync job lost ${max} times (queued again each time); given up`;
        await this.appendErrors(
          tx,
          [run],
          failed.slice(0, MAX_RUN_ERRORS).map((f) => ({ twin: f.twin, description, ts: nowTs })),
        );
      }
      return { again: counted.map((c) => c.twin), failed: failed.map((f) => f.twin) };
    });
  }

  /** The reaper queues the run's lost scan again: true while under `max` re-queues (counted), false once spent. */
  async requeueLostScan(run: string, max: number): Promise<boolean> {
    const rows = await this.db.query<{ uuid: string }>(
      `UPDATE sync_runs SET scan_requeues = scan_requeues + 1
        WHERE uuid = $1 AND scan_requeues < $2 AND status IN ('queued', 'running') RETURNING uuid`,
      [run, max],
    );
    return rows.length > 0;
  }

  /** Runs whose scan is done, that a previous worker may have left with every twin accounted for but not closed. */
  async finishCandidates(): Promise<string[]> {
    const rows = await this.db.query<{ uuid: string }>(
      `SELECT uuid FROM sync_runs WHERE status = 'running' AND scan_done`,
    );
    return rows.map((r) => r.uuid);
  }

  /**
   * Closes the run if nothing is left to wait for. A full run first sweeps: the source's twins the scan did not see,
   * and that no sync touched since the run started, leave the source's rows. Cheap when the run is still going (one
   * index probe); safe to call twice and concurrently (the run row lock decides; a closed run is left alone).
   */
  async finishIfDone(uuid: string): Promise<boolean> {
    const pending = await this.db.prepared<{ pending: boolean }>('sync_run_pending', PENDING, [uuid]);
    if (pending[0].pending) return false;
    return this.db.transaction(async (tx) => {
      const found = await tx.query<RunRow>(`SELECT ${COLUMNS} FROM sync_runs WHERE uuid = $1 FOR UPDATE`, [
        uuid,
      ]);
      const run = found[0] && toRun(found[0]);
      if (!run || run.status !== 'running' || !run.scanDone || !(await this.nothingPending(tx, uuid)))
        return false;
      let swept = 0;
      if (run.mode === 'full' && run.startedTs !== null) {
        // sync_twins_pkey (source, twin) range; sync_run_twins_pkey (run, twin) probes.
        const gone = await tx.query<{ twin: string }>(
          `UPDATE sync_twins st SET present = false, fetched_ts = $3
            WHERE st.source = $1 AND st.present AND st.fetched_ts < $3
              AND NOT EXISTS (SELECT 1 FROM sync_run_twins rt WHERE rt.run = $2 AND rt.twin = st.twin)
            RETURNING st.twin`,
          [run.source, uuid, run.startedTs],
        );
        if (gone.length) {
          const twins = gone.map((g) => g.twin);
          swept =
            (await deleteSourceIdentitiesOfTwins(tx, run.source, twins)) +
            (await revokeSourceGrantsOfTwins(tx, run.source, twins));
          await removeOrphanSyncedTwins(tx, twins);
        }
      }
      await tx.query(
        `UPDATE sync_runs r SET status = 'completed', finished_ts = extract(epoch FROM clock_timestamp()),
                done = r.done + a.done, failed = r.failed + a.failed, upserted = r.upserted + a.upserted,
                deleted = r.deleted + a.deleted + $2, retries = r.retries + a.retries
           FROM (SELECT count(*) FILTER (WHERE NOT failed)::int AS done, count(*) FILTER (WHERE failed)::int AS failed,
                        COALESCE(sum(upserted), 0) AS upserted, COALESCE(sum(deleted), 0) AS deleted,
                        COALESCE(sum(retries), 0)::int AS retries
                   FROM sync_run_twins WHERE run = $1) a
          WHERE r.uuid = $1`,
        [uuid, swept],
      );
      await tx.query(`DELETE FROM sync_run_twins WHERE run = $1`, [uuid]);
      return true;
    });
  }

  /** sync_run_twins_pending_run_idx: stops at the first pending twin. */
  private async nothingPending(q: Queryable, uuid: string): Promise<boolean> {
    const rows = await q.query<{ pending: boolean }>(PENDING, [uuid]);
    return !rows[0].pending;
  }
}

function toRun(row: RunRow): SyncRun {
  return {
    uuid: row.uuid,
    source: row.source,
    account: row.account,
    mode: row.mode,
    trigger: row.trigger,
    status: row.status,
    twins: row.twins,
    done: row.done,
    failed: row.failed,
    upserted: Number(row.upserted),
    deleted: Number(row.deleted),
    retries: row.retries,
    scanDone: row.scan_done,
    updatedSince: row.updated_since,
    errors: row.errors,
    createdTs: row.created_ts,
    startedTs: row.started_ts,
    finishedTs: row.finished_ts,
  };
}
