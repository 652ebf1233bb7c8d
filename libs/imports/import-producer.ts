import { Inject, Injectable } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import type { JobsOptions, Queue } from 'bullmq';
import { CONFIG, type TwindexConfig } from '../config/index.js';
import { BacklogFullError, TwindexError } from '../domain/errors.js';
import { throttledErrorLog } from '../queue/error-log.js';
import { FairLedger, turn } from '../queue/fair-ledger.js';
import { accountGroup, FAIR_GROUPS } from '../queue/fair-groups.js';
import { JOBS, type JobPayloads, type QueueName } from '../queue/job-catalogue.js';

/** Seconds an upload refused for a full queue (or full staging) is asked to wait: about one small merge. */
export const BACKLOG_RETRY_AFTER_SECONDS = 10;

const MERGE_JOB_OPTIONS: JobsOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 2_000, jitter: 0.5 },
  removeOnComplete: { age: 24 * 3_600, count: 1_000 },
  removeOnFail: { age: 7 * 24 * 3_600, count: 1_000 },
};

/** How long a request waits for Redis before answering 503 (a queue that is down must not hang the upload). */
export const QUEUE_DEADLINE_MS = 2_000;

export const queueUnavailable = () =>
  new TwindexError('unavailable', 'queue_unavailable', 'The job queue is unreachable');

/** Rejects with `queue_unavailable` when `work` has not settled within `ms` (it may still complete later). */
export async function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(queueUnavailable()), ms);
  });
  work.catch(() => undefined);
  try {
    return await Promise.race([work, deadline]);
  } catch (e) {
    throw e instanceof TwindexError ? e : queueUnavailable();
  } finally {
    clearTimeout(timer);
  }
}

export const mergeJobId = (importId: string) => `import.${importId}`;

const queueFull = (count: number, cap: number) =>
  new BacklogFullError(
    `The account already has ${count} imports waiting for their merge (at most ${cap}); retry later`,
    BACKLOG_RETRY_AFTER_SECONDS,
  );

/**
 * Enqueues the merge of a stored import; the job id derives from the import, so it is queued once. Every add goes
 * through the queue's FairLedger (docs/imports.md "Fair shares"): counted for its account, given its turn.
 */
@Injectable()
export class ImportProducer {
  readonly ledger: FairLedger;

  constructor(
    @InjectQueue(JOBS['import-merge'].queue) readonly queue: Queue<JobPayloads['import-merge']>,
    @Inject(CONFIG) private readonly config: TwindexConfig,
  ) {
    this.ledger = new FairLedger(queue, FAIR_GROUPS[queue.name as QueueName]);
    queue.on('error', throttledErrorLog('imports queue'));
  }

  /** Throws BacklogFullError while the account has IMPORT_QUEUED_PER_ACCOUNT imports waiting (checked before an upload). */
  async assertRoom(account: string, ms = QUEUE_DEADLINE_MS): Promise<void> {
    const [count] = await withDeadline(this.ledger.counts([accountGroup(account)]), ms);
    if (count >= this.config.IMPORT_QUEUED_PER_ACCOUNT)
      throw queueFull(count, this.config.IMPORT_QUEUED_PER_ACCOUNT);
  }

  /**
   * Queues the merge with the account's next turn. `capped` (an upload): refused with BacklogFullError when the
   * account already has its IMPORT_QUEUED_PER_ACCOUNT waiting; the sweeper's re-queue of an accepted import is not.
   */
  async enqueueMerge(
    importId: string,
    account: string,
    options: { capped?: boolean; ms?: number } = {},
  ): Promise<void> {
    const group = accountGroup(account);
    const cap = options.capped ? this.config.IMPORT_QUEUED_PER_ACCOUNT : null;
    const reserved = await withDeadline(
      this.ledger.reserve([{ group, cap }], 1),
      options.ms ?? QUEUE_DEADLINE_MS,
    );
    if (!reserved.ok) throw queueFull(reserved.count, reserved.cap);
    try {
      await withDeadline(
        this.queue.add(
          'import-merge',
          { importId, account },
          { ...MERGE_JOB_OPTIONS, jobId: mergeJobId(importId), priority: turn(reserved.first, 0) },
        ),
        options.ms ?? QUEUE_DEADLINE_MS,
      );
    } catch (e) {
      // A job added after all (the deadline passed first) is recounted by the worker's reconcile.
      await this.ledger.release([group]).catch(() => undefined);
      throw e;
    }
  }

  /**
   * Re-queues the merge of an import left unfinished without a live job (Redis lost it, the API died between
   * commit and enqueue, or a finished job is still kept under the id). Answers whether a job was added.
   */
  async requeue(importId: string, account: string): Promise<boolean> {
    const job = await this.queue.getJob(mergeJobId(importId));
    if (job) {
      const state = await job.getState();
      if (state !== 'completed' && state !== 'failed' && state !== 'unknown') return false;
      await job.remove();
    }
    await this.enqueueMerge(importId, account, { ms: 10_000 });
    return true;
  }
}
