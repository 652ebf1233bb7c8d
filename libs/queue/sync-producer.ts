import { Injectable } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import type { JobsOptions, Queue } from 'bullmq';
import { throttledErrorLog } from './error-log.js';
import { type JobPayloads, QUEUES, type SyncMode } from './queue-names.js';

/** Twin syncs: retried with backoff, and kept when they fail for good so the reason stays visible. */
const TWIN_JOB_OPTIONS: JobsOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 2_000, jitter: 0.5 },
  removeOnComplete: { age: 3_600, count: 1_000 },
  removeOnFail: { age: 7 * 24 * 3_600, count: 10_000 },
};

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
  constructor(
    @InjectQueue(QUEUES.sync) readonly sources: Queue<JobPayloads['sync-source']>,
    @InjectQueue(QUEUES.syncTwins) readonly twins: Queue<JobPayloads['sync-twin']>,
  ) {
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
    runId: string | null,
    twins: readonly string[],
    options: { account: string; delayMs?: number },
  ): Promise<void> {
    if (twins.length === 0) return;
    await this.twins.addBulk(
      twins.map((twin) => ({
        name: 'sync-twin',
        data: { sourceId, account: options.account, runId, twin },
        opts: {
          ...TWIN_JOB_OPTIONS,
          delay: options.delayMs,
          deduplication: { id: twinDeduplicationId(sourceId, twin), keepLastIfActive: true },
        },
      })),
    );
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
