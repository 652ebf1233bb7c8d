import { type BeforeApplicationShutdown, Inject, Logger } from '@nestjs/common';
import { OnWorkerEvent, WorkerHost } from '@nestjs/bullmq';
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import { CONFIG, type TwindexConfig } from '../../../libs/config/index.js';
import { throttledErrorLog } from '../../../libs/queue/error-log.js';
import { settleIfEnded } from '../../../libs/queue/fair-ledger-reconciler.js';
import { readPayload } from '../../../libs/queue/job-catalogue.js';
import { JobProcessor } from '../../../libs/queue/job-processor.decorator.js';
import { ForeignJobError } from '../../../libs/sync/foreign-job.error.js';
import { ScanFailure, SourceScanService } from '../../../libs/sync/source-scan.service.js';

/**
 * `sync-source` jobs (API runs and schedules). A scan can be long: on shutdown it stops between pages and goes
 * back to the queue with its position saved, so SIGTERM never waits for a whole scan and no page is lost.
 */
@JobProcessor('sync-source', { concurrency: 2 })
export class SourceScanProcessor extends WorkerHost implements BeforeApplicationShutdown {
  private readonly logger = new Logger('sync-source');
  private stopping = false;

  constructor(
    private readonly scans: SourceScanService,
    @Inject(CONFIG) private readonly config: TwindexConfig,
  ) {
    super();
  }

  async process(job: Job<unknown>, token?: string): Promise<{ result: string }> {
    try {
      const result = await this.scans.scan(readPayload('sync-source', job), {
        save: (state) => job.updateData(state),
        stopping: () => this.stopping,
        progress: (pages) => job.updateProgress(pages),
      });
      if (result === 'stopped') {
        // Back to the queue as it is, without using up an attempt.
        await job.moveToDelayed(Date.now(), token);
        throw new DelayedError();
      }
      if (result === 'backlogged') {
        // Its twins' backlog is full: back to the queue until it has drained a little (no attempt used up).
        await job.moveToDelayed(Date.now() + this.config.SYNC_BACKLOG_WAIT_MS, token);
        throw new DelayedError();
      }
      return { result };
    } catch (e) {
      if (e instanceof ForeignJobError) {
        this.logger.warn(e.message);
        throw new UnrecoverableError(e.message);
      }
      if (!(e instanceof ScanFailure)) throw e;
      const last = !e.retryable || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      this.logger.warn(`run ${e.runId}: ${e.message}${last ? ' (run failed)' : ' (will retry)'}`);
      if (last) await this.scans.recordFailure(e);
      throw e.retryable ? new Error(e.message) : new UnrecoverableError(e.message);
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.worker.close();
  }

  private readonly logError = throttledErrorLog('sync-source worker');

  /** Redis going away is reported (throttled) and survived: BullMQ reconnects and resumes. */
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
