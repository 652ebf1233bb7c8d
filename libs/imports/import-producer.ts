import { Injectable } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import type { JobsOptions, Queue } from 'bullmq';
import { TwindexError } from '../domain/errors.js';
import { throttledErrorLog } from '../queue/error-log.js';
import { JOBS, type JobPayloads } from '../queue/job-catalogue.js';

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

/** Enqueues the merge of a stored import; the job id derives from the import, so it is queued once. */
@Injectable()
export class ImportProducer {
  constructor(@InjectQueue(JOBS['import-merge'].queue) readonly queue: Queue<JobPayloads['import-merge']>) {
    queue.on('error', throttledErrorLog('imports queue'));
  }

  async enqueueMerge(importId: string, ms = QUEUE_DEADLINE_MS): Promise<void> {
    await withDeadline(
      this.queue.add('import-merge', { importId }, { ...MERGE_JOB_OPTIONS, jobId: mergeJobId(importId) }),
      ms,
    );
  }

  /**
   * Re-queues the merge of an import left unfinished without a live job (Redis lost it, the API died between
   * commit and enqueue, or a finished job is still kept under the id). Answers whether a job was added.
   */
  async requeue(importId: string): Promise<boolean> {
    const job = await this.queue.getJob(mergeJobId(importId));
    if (job) {
      const state = await job.getState();
      if (state !== 'completed' && state !== 'failed' && state !== 'unknown') return false;
      await job.remove();
    }
    await this.enqueueMerge(importId, 10_000);
    return true;
  }
}
