import { type BeforeApplicationShutdown, Inject, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { OnWorkerEvent, WorkerHost } from '@nestjs/bullmq';
import { type Job, UnrecoverableError } from 'bullmq';
import { CONFIG, type TwindexConfig } from '../../../libs/config/index.js';
import { throttledErrorLog } from '../../../libs/queue/error-log.js';
import { settleIfEnded } from '../../../libs/queue/fair-ledger-reconciler.js';
import { readPayload } from '../../../libs/queue/job-catalogue.js';
import { JobProcessor } from '../../../libs/queue/job-processor.decorator.js';
import { ForeignJobError } from '../../../libs/sync/foreign-job.error.js';
import { TwinSyncFailure, TwinSyncService } from '../../../libs/sync/twin-sync.service.js';

export interface TwinJobResult {
  result: string;
  upserted: number;
  deleted: number;
}

/** `sync-twin` jobs: payload in, TwinSyncService call, outcome out; final failures land in the run report. */
@JobProcessor('sync-twin', { concurrency: 8 })
export class TwinSyncProcessor
  extends WorkerHost
  implements OnApplicationBootstrap, BeforeApplicationShutdown
{
  private readonly logger = new Logger('sync-twin');

  constructor(
    @Inject(CONFIG) private readonly config: TwindexConfig,
    private readonly twins: TwinSyncService,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    this.worker.concurrency = this.config.WORKER_CONCURRENCY;
  }

  async process(job: Job<unknown>): Promise<TwinJobResult> {
    // The catalogue requires the account: a payload without it (forged, or from before jobs carried it) fails.
    const { sourceId, account, twin } = readPayload('sync-twin', job);
    try {
      const outcome = await this.twins.sync(sourceId, twin, job.attemptsMade, account);
      return { result: outcome.result, upserted: outcome.upserted, deleted: outcome.deleted };
    } catch (e) {
      if (e instanceof ForeignJobError) {
        this.logger.warn(e.message);
        throw new UnrecoverableError(e.message);
      }
      if (!(e instanceof TwinSyncFailure)) throw e;
      const last = !e.retryable || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      this.logger.warn(
        `twin ${twin} of source ${sourceId}: ${e.message}${last ? ' (giving up)' : ' (will retry)'}`,
      );
      if (last) await this.twins.recordFailure(sourceId, twin, e);
      // The job is kept as failed with this reason (removeOnFail keeps a week of them).
      throw e.retryable ? new Error(e.message) : new UnrecoverableError(e.message);
    }
  }

  /** SIGTERM: take no new job, finish the ones in hand (short: one twin each), before the pools close. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.worker.close();
  }

  private readonly logError = throttledErrorLog('sync-twin worker');

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
