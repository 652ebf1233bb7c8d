import { Injectable } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import type { JobsOptions, Queue } from 'bullmq';
import { throttledErrorLog } from '../queue/error-log.js';
import { JOBS, type JobPayloads } from '../queue/queue-names.js';

const MERGE_JOB_OPTIONS: JobsOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 2_000, jitter: 0.5 },
  removeOnComplete: { age: 24 * 3_600, count: 1_000 },
  removeOnFail: { age: 7 * 24 * 3_600, count: 1_000 },
};

/** Enqueues the merge of a stored import; the job id derives from the import, so it is queued once. */
@Injectable()
export class ImportProducer {
  constructor(@InjectQueue(JOBS['import-merge'].queue) readonly queue: Queue<JobPayloads['import-merge']>) {
    queue.on('error', throttledErrorLog('imports queue'));
  }

  async enqueueMerge(importId: string): Promise<void> {
    await this.queue.add('import-merge', { importId }, { ...MERGE_JOB_OPTIONS, jobId: `import.${importId}` });
  }
}
