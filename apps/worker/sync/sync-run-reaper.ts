import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { nowSeconds } from '../../../libs/clock/clock.js';
import { CONFIG, type TwindexConfig } from '../../../libs/config/index.js';
import { SyncProducer } from '../../../libs/queue/sync-producer.js';
import { SyncRunsRepository } from '../../../libs/sync/sync-runs.repository.js';
import { TwinSyncService } from '../../../libs/sync/twin-sync.service.js';

/** Pending twins looked at per run and tick: bounds one tick's Redis round trips on a huge run. */
const TWINS_PER_TICK = 5_000;

/**
 * Makes sure every sync run ends. A run waits for its scan and for one sync job per twin; those jobs live in Redis,
 * which may lose them (a restart without persistence), and a job's last failure may not have reached PostgreSQL
 * (it was down just then). Periodically, for runs older than the grace period, in every worker (all steps are
 * idempotent, so several workers may do this at once):
 * - a scan with no live job is queued again (from the first page; twins already queued are not queued twice),
 *   or, if its job failed for good, the run is failed with that reason;
 * - a pending twin with no live job (its deduplication key is gone) is queued again, so the run still ends with
 *   every twin either synced or failed for good with its reason — true counts;
 * - either is queued again at most SYNC_REAPER_MAX_REQUEUES times per run: work that keeps vanishing (a job that
 *   kills its worker, a Redis that keeps losing it) then fails with that reason rather than looping forever;
 * - a run with nothing left to wait for is closed.
 * The timer lives in the process, not in Redis, so losing Redis cannot lose the reaper too.
 */
@Injectable()
export class SyncRunReaper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('sync-reaper');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    @Inject(CONFIG) private readonly config: TwindexConfig,
    private readonly runs: SyncRunsRepository,
    private readonly producer: SyncProducer,
    private readonly twins: TwinSyncService,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      // One tick at a time: a slow tick (an outage's deadlines) must not pile up behind itself.
      if (this.running) return;
      this.running = this.tick()
        .catch((e: unknown) => this.logger.warn(`reaper tick skipped: ${(e as Error).message}`))
        .finally(() => (this.running = undefined));
    }, this.config.SYNC_REAPER_INTERVAL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  async tick(): Promise<void> {
    const grace = this.config.SYNC_REAPER_GRACE_MS / 1000;
    const max = this.config.SYNC_REAPER_MAX_REQUEUES;
    const runs = await this.runs.unfinishedRuns(grace);
    if (runs.length === 0) return;
    const scanning = runs.filter((r) => !r.scanDone);
    if (scanning.length) {
      const live = await this.producer.liveScanRuns();
      const orphaned = new Set(scanning.filter((r) => !live.has(r.uuid)).map((r) => r.uuid));
      const failed = orphaned.size ? await this.producer.failedScans(orphaned) : new Map<string, string>();
      for (const run of scanning.filter((r) => orphaned.has(r.uuid))) {
        const reason = failed.get(run.uuid);
        if (reason !== undefined) {
          this.logger.warn(`sync run ${run.uuid}: scan failed for good (${reason}); failing the run`);
          await this.runs.fail(run.uuid, {
            twin: null,
            description: `scan failed: ${reason}`,
            ts: nowSeconds(),
          });
        } else if (await this.runs.requeueLostScan(run.uuid, max)) {
          this.logger.warn(`sync run ${run.uuid}: its scan job was lost; queueing the scan again`);
          await this.producer.requeueRun(run.source, run.uuid, run.mode, run.account);
        } else {
          this.logger.warn(`sync run ${run.uuid}: its scan job was lost ${max} times; failing the run`);
          await this.runs.fail(run.uuid, {
            twin: null,
            description: `scan job lost ${max} times (queued again each time); given up`,
            ts: nowSeconds(),
          });
        }
      }
    }
    for (const run of runs.filter((r) => r.scanDone)) {
      const pending = await this.runs.pendingTwins(run.uuid, grace, TWINS_PER_TICK);
      const lost = pending.length ? await this.producer.twinsWithoutJob(run.source, pending) : [];
      if (lost.length === 0) continue;
      const { again, failed } = await this.runs.requeueLostTwins(run.uuid, lost, max, nowSeconds());
      if (failed.length) {
        this.logger.warn(
          `sync run ${run.uuid}: ${failed.length} twin job(s) lost ${max} times; counted as failed`,
        );
      }
      if (again.length) {
        this.logger.warn(`sync run ${run.uuid}: ${again.length} twin job(s) lost; queueing them again`);
        await this.producer.enqueueTwins(run.source, again, { account: run.account });
      }
    }
    await this.twins.finishRuns(runs.filter((r) => r.scanDone).map((r) => r.uuid));
  }
}
