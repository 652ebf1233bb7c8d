import { type BeforeApplicationShutdown, Logger } from '@nestjs/common';
import { OnWorkerEvent, WorkerHost } from '@nestjs/bullmq';
import { type Job, UnrecoverableError } from 'bullmq';
import { ImportMergeService, type MergeOutcome } from '../../../libs/imports/import-merge.service.js';
import { throttledErrorLog } from '../../../libs/queue/error-log.js';
import { settleIfEnded } from '../../../libs/queue/fair-ledger-reconciler.js';
import { readPayload } from '../../../libs/queue/job-catalogue.js';
import { JobProcessor } from '../../../libs/queue/job-processor.decorator.js';

/**
 * `import-merge` jobs: one import each, merged batch by batch. A retried or stalled-and-resumed job starts the
 * merge over from the first line; the upserts make that safe.
 */
@JobProcessor('import-merge', { concurrency: 2 })
export class ImportMergeProcessor extends WorkerHost implements BeforeApplicationShutdown {
  private readonly logger = new Logger('import-merge');

  constructor(private readonly merger: ImportMergeService) {
    super();
  }

  async process(job: Job<unknown>): Promise<MergeOutcome> {
    const { importId } = readPayload('import-merge', job);
    let outcome: MergeOutcome;
    try {
      // A percentage (the dashboard draws a number as one); the row counts are in the import's report.
      outcome = await this.merger.merge(importId, async (percent) => {
        await job.updateProgress(percent);
      });
    } catch (e) {
      const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      const message = (e as Error)?.message ?? String(e);
      this.logger.warn(`import ${importId}: ${message}${last ? ' (giving up)' : ' (will retry)'}`);
      if (last) await this.merger.fail(importId, message).catch(() => undefined);
      throw e;
    }
    // The import is already marked failed with its reason; the job must fail too (metrics, dashboards), and
    // retrying cannot change a file's contents.
    if (outcome.status === 'failed') throw new UnrecoverableError(`import ${importId} failed`);
    return outcome;
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.worker.close();
  }

  private readonly logError = throttledErrorLog('import-merge worker');

  @OnWorkerEvent('error')
  onError(error: Error): void {
    this.logError(error);
  }

  /** A job that ended for good gives its places in the fair-share ledger back (docs/sync.md "Fair shares"). */
  @OnWorkerEvent('completed')
  onCompleted(job: Job): void {
    settleIfEnded(this.worker, job, this.logError);
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job | undefined): void {
    settleIfEnded(this.worker, job, this.logError);
  }
}
