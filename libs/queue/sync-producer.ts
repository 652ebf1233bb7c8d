import { Inject, Injectable } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import type { JobsOptions, Queue } from 'bullmq';
import { CONFIG, type TwindexConfig } from '../config/index.js';
import { throttledErrorLog } from './error-log.js';
import { JOBS, type JobPayloads, type SyncMode } from './job-catalogue.js';

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

/** Enqueues sync work; shared by the API (runs, webhooks, schedules) and the worker (a scan's fan-out). */
@Injectable()
export class SyncProducer {
  private readonly twinJobOptions: JobsOptions;

  constructor(
    @InjectQueue(JOBS['sync-source'].queue) readonly sources: Queue<JobPayloads['sync-source']>,
    @InjectQueue(JOBS['sync-twin'].queue) readonly twins: Queue<JobPayloads['sync-twin']>,
    @Inject(CONFIG) config: TwindexConfig,
  ) {
    this.twinJobOptions = twinJobOptions(config);
    const log = throttledErrorLog('sync queues');
    sources.on('error', log);
    twins.on('error', log);
  }

  /** One run's scan; the job id derives from the run, so enqueuing a run twice queues it once. */
  async enqueueRun(sourceId: string, runId: string, mode: SyncMode, account: string): Promise<void> {
    await this.sources.add(
      'sync-source',
      { sourceId, account, runId, mode },
      { ...SCAN_JOB_OPTIONS, jobId: `run.${runId}` },
    );
  }

  async enqueueTwins(
    sourceId: string,
    twins: readonly string[],
    options: { account: string; delayMs?: number },
  ): Promise<void> {
    if (twins.length === 0) return;
    await this.twins.addBulk(
      twins.map((twin) => ({
        name: 'sync-twin',
        data: { sourceId, account: options.account, twin },
        opts: {
          ...this.twinJobOptions,
          delay: options.delayMs,
          deduplication: { id: twinDeduplicationId(sourceId, twin), keepLastIfActive: true },
        },
      })),
    );
  }

  /**
   * The scan of a run whose scan job was lost (Redis restarted without persistence): queued again from the first
   * page under a fresh job id (the old id may still name a finished job, which would swallow the add).
   */
  async requeueRun(sourceId: string, runId: string, mode: SyncMode, account: string): Promise<void> {
    await this.sources.add(
      'sync-source',
      { sourceId, account, runId, mode },
      { ...SCAN_JOB_OPTIONS, jobId: `run.${runId}.${Date.now()}` },
    );
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

  /** The ids of the schedulers that exist with their pattern and account, for aligning them with the table. */
  async schedules(): Promise<Map<string, { pattern?: string; account?: string }>> {
    const found = new Map<string, { pattern?: string; account?: string }>();
    for (let start = 0; ; start += 500) {
      const page = await this.sources.getJobSchedulers(start, start + 499, true);
      for (const s of page) {
        const data = s.template?.data as Partial<JobPayloads['sync-source']> | undefined;
        found.set(s.key, { pattern: s.pattern ?? undefined, account: data?.account });
      }
      if (page.length < 500) return found;
    }
  }
}
