import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import type { JobsOptions, Queue } from 'bullmq';
import { CONFIG, type TwindexConfig } from '../config/index.js';
import { BacklogFullError } from '../domain/errors.js';
import { throttledErrorLog } from './error-log.js';
import { FairLedger, type GroupCap, turn } from './fair-ledger.js';
import { accountGroup, COUNTED_SCAN_JOB, COUNTED_TWIN_JOB, FAIR_GROUPS, sourceGroup } from './fair-groups.js';
import { JOBS, type JobPayloads, type QueueName, type SyncMode } from './job-catalogue.js';

/**
 * Twin syncs: retried with backoff long enough to ride out a minute's outage (SYNC_TWIN_ATTEMPTS/_BACKOFF_MS), and
 * kept when they fail for good so the reason stays visible.
 */
function twinJobOptions(config: TwindexConfig): JobsOptions {
  return {
    attempts: config.SYNC_TWIN_ATTEMPTS,
    backoff: { type: 'exponential', delay: config.SYNC_TWIN_BACKOFF_MS, jitter: 0.5 },
    removeOnComplete: { age: 3_600, count: 1_000 },
    removeOnFail: { age: 7 * 24 * 3_600, count: 10_000 },
  };
}

const SCAN_JOB_OPTIONS: JobsOptions = {
  // Never 0: BullMQ serves unprioritised jobs before every prioritised one, which would undo the fair turns.
  priority: 1,
  attempts: 5,
  backoff: { type: 'exponential', delay: 5_000, jitter: 0.5 },
  removeOnComplete: { age: 24 * 3_600, count: 1_000 },
  removeOnFail: { age: 7 * 24 * 3_600, count: 1_000 },
};

/** Webhook bursts for one twin within this window become one sync. */
export const WEBHOOK_DEBOUNCE_MS = 500;

/**
 * The deduplication id of a twin's sync: derived from (source, twin), so a twin already waiting is not queued
 * twice. BullMQ ids stay generated: a custom job id would collide with the finished job kept for inspection and
 * swallow the next legitimate sync. `keepLastIfActive`: a request arriving while that twin's sync is running is
 * not dropped but runs once more after it (BullMQ #3151), and the key lives exactly as long as the job.
 */
export function twinDeduplicationId(sourceId: string, twin: string): string {
  return `sync-twin.${sourceId}.${twin}`;
}

export function schedulerId(sourceId: string): string {
  return `sync-source.${sourceId}`;
}

/** Seconds a webhook refused for a full backlog is asked to wait: about one scan's pause (SYNC_BACKLOG_WAIT_MS). */
const backlogRetryAfter = (config: TwindexConfig) => config.SYNC_BACKLOG_WAIT_MS / 1000;

/**
 * Enqueues sync work; shared by the API (runs, webhooks, schedules) and the worker (a scan's fan-out). Every add
 * goes through the queue's FairLedger (docs/sync.md "Fair shares"): it is counted for its account (and, for twin
 * jobs, its source) and gets the account's next turn as its priority.
 */
@Injectable()
export class SyncProducer {
  private readonly twinJobOptions: JobsOptions;
  readonly scanLedger: FairLedger;
  readonly twinLedger: FairLedger;

  constructor(
    @InjectQueue(JOBS['sync-source'].queue) readonly sources: Queue<JobPayloads['sync-source']>,
    @InjectQueue(JOBS['sync-twin'].queue) readonly twins: Queue<JobPayloads['sync-twin']>,
    @Inject(CONFIG) private readonly config: TwindexConfig,
  ) {
    this.twinJobOptions = twinJobOptions(config);
    this.scanLedger = new FairLedger(sources, FAIR_GROUPS[sources.name as QueueName]);
    this.twinLedger = new FairLedger(twins, FAIR_GROUPS[twins.name as QueueName]);
    const log = throttledErrorLog('sync queues');
    sources.on('error', log);
    twins.on('error', log);
  }

  /** One run's scan; the job id derives from the run, so enqueuing a run twice queues it once. */
  async enqueueRun(sourceId: string, runId: string, mode: SyncMode, account: string): Promise<void> {
    await this.addScan({ sourceId, account, runId, mode }, `${COUNTED_SCAN_JOB}${runId}`);
  }

  /**
   * Queues one sync per twin, coalescing with the twin's pending job if it has one (deduplication by (source,
   * twin)). New jobs take places in the account's and the source's ledger groups: with `capped`, a batch that
   * would pass either cap is refused whole (BacklogFullError, nothing queued); a scan waits instead (`backlogFull`).
   * Answers how many new jobs were queued.
   */
  async enqueueTwins(
    sourceId: string,
    twins: readonly string[],
    options: { account: string; delayMs?: number; capped?: boolean },
  ): Promise<number> {
    if (twins.length === 0) return 0;
    // A twin whose job is pending coalesces into it, so it takes no new place (at the cap as below it).
    const pending = await Promise.all(
      twins.map((t) => this.twins.getDeduplicationJobId(twinDeduplicationId(sourceId, t))),
    );
    const fresh = twins.filter((_, i) => !pending[i]);
    const coalescing = twins.filter((_, i) => pending[i]);
    const groups: GroupCap[] = [
      {
        group: accountGroup(options.account),
        cap: options.capped ? this.config.SYNC_PENDING_PER_ACCOUNT : null,
      },
      { group: sourceGroup(sourceId), cap: options.capped ? this.config.SYNC_PENDING_PER_SOURCE : null },
    ];
    let first = 0;
    if (fresh.length > 0) {
      const reserved = await this.twinLedger.reserve(groups, fresh.length);
      if (!reserved.ok) {
        const what = reserved.group === groups[0].group ? 'account' : 'source';
        throw new BacklogFullError(
          `The ${what} already has ${reserved.count} twin syncs pending (at most ${reserved.cap}); retry later`,
          backlogRetryAfter(this.config),
        );
      }
      first = reserved.first;
    } else {
      [first] = await this.twinLedger.counts([groups[0].group]);
    }
    const ids = fresh.map(() => `${COUNTED_TWIN_JOB}${randomUUID()}`);
    const job = (twin: string, priority: number, jobId?: string) => ({
      name: 'sync-twin' as const,
      data: { sourceId, account: options.account, twin },
      opts: {
        ...this.twinJobOptions,
        jobId,
        priority,
        delay: options.delayMs,
        deduplication: { id: twinDeduplicationId(sourceId, twin), keepLastIfActive: true },
      },
    });
    let added;
    try {
      added = await this.twins.addBulk([
        ...fresh.map((t, i) => job(t, turn(first, i), ids[i])),
        // Not counted (a generated id): it only refreshes the pending job, or runs once more after an active one.
        ...coalescing.map((t) => job(t, turn(first, 0))),
      ]);
    } catch (e) {
      // Nothing or not all was added: the places go back (a job added after all is recounted by the reconcile).
      await this.twinLedger
        .release(
          groups.map((g) => g.group),
          fresh.length,
        )
        .catch(() => undefined);
      throw e;
    }
    // A fresh twin whose job appeared meanwhile (another event, a scan) was coalesced: its place goes back.
    const coalesced = fresh.filter((_, i) => added[i]?.id !== ids[i]).length;
    if (coalesced > 0)
      await this.twinLedger.release(
        groups.map((g) => g.group),
        coalesced,
      );
    return fresh.length - coalesced;
  }

  /** True while the source or its account has as many twin jobs pending as its cap: its scan waits. */
  async backlogFull(sourceId: string, account: string): Promise<boolean> {
    const [ofAccount, ofSource] = await this.twinLedger.counts([
      accountGroup(account),
      sourceGroup(sourceId),
    ]);
    return (
      ofAccount >= this.config.SYNC_PENDING_PER_ACCOUNT || ofSource >= this.config.SYNC_PENDING_PER_SOURCE
    );
  }

  /**
   * The scan of a run whose scan job was lost (Redis restarted without persistence): queued again from the first
   * page under a fresh job id (the old id may still name a finished job, which would swallow the add).
   */
  async requeueRun(sourceId: string, runId: string, mode: SyncMode, account: string): Promise<void> {
    await this.addScan({ sourceId, account, runId, mode }, `${COUNTED_SCAN_JOB}${runId}.${Date.now()}`);
  }

  /** A scan job, counted for its account and given its turn; an id already present is left as it is. */
  private async addScan(data: JobPayloads['sync-source'], jobId: string): Promise<void> {
    if (await this.sources.getJob(jobId)) return;
    const group = accountGroup(data.account);
    const reserved = await this.scanLedger.reserve([{ group, cap: null }], 1);
    const first = reserved.ok ? reserved.first : 0;
    try {
      await this.sources.add('sync-source', data, { ...SCAN_JOB_OPTIONS, jobId, priority: turn(first, 0) });
    } catch (e) {
      await this.scanLedger.release([group]).catch(() => undefined);
      throw e;
    }
  }

  /** Runs whose scan has a job that may still do something (waiting, delayed, running). */
  async liveScanRuns(): Promise<Set<string>> {
    const jobs = await this.sources.getJobs([
      'active',
      'waiting',
      'delayed',
      'prioritized',
      'waiting-children',
    ]);
    return new Set(jobs.flatMap((j) => (j?.data?.runId ? [j.data.runId] : [])));
  }

  /** The scan jobs of these runs that failed for good, with their reason. */
  async failedScans(runs: ReadonlySet<string>): Promise<Map<string, string>> {
    const failed = new Map<string, string>();
    const jobs = await this.sources.getJobs(['failed'], 0, 999);
    for (const j of jobs) {
      const run = j?.data?.runId;
      if (run && runs.has(run)) failed.set(run, j.failedReason ?? 'scan job failed');
    }
    return failed;
  }

  /**
   * Of these twins of a source, those with no sync job waiting, delayed or running: the deduplication key lives
   * exactly as long as such a job, so a missing key means the job finished or was lost.
   */
  async twinsWithoutJob(sourceId: string, twins: readonly string[]): Promise<string[]> {
    const ids = await Promise.all(
      twins.map((t) => this.twins.getDeduplicationJobId(twinDeduplicationId(sourceId, t))),
    );
    return twins.filter((_, i) => !ids[i]);
  }

  /** Creates or updates the source's job scheduler: a full run per period (`pattern` is cron, 5 or 6 fields). */
  async upsertSchedule(sourceId: string, pattern: string, account: string): Promise<void> {
    await this.sources.upsertJobScheduler(
      schedulerId(sourceId),
      { pattern },
      { name: 'sync-source', data: { sourceId, account, runId: null, mode: 'full' }, opts: SCAN_JOB_OPTIONS },
    );
  }

  async removeSchedule(sourceId: string): Promise<void> {
    await this.sources.removeJobScheduler(schedulerId(sourceId));
  }

  /**
   * The ids of the schedulers that exist with their pattern, account and whether their jobs carry a priority, for
   * aligning them with the table.
   */
  async schedules(): Promise<Map<string, { pattern?: string; account?: string; prioritized?: boolean }>> {
    const found = new Map<string, { pattern?: string; account?: string; prioritized?: boolean }>();
    for (let start = 0; ; start += 500) {
      const page = await this.sources.getJobSchedulers(start, start + 499, true);
      for (const s of page) {
        const data = s.template?.data as Partial<JobPayloads['sync-source']> | undefined;
        found.set(s.key, {
          pattern: s.pattern ?? undefined,
          account: data?.account,
          prioritized: (s.template?.opts?.priority ?? 0) >= 1,
        });
      }
      if (page.length < 500) return found;
    }
  }
}
