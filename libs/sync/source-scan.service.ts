import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { CONFIG, type TwindexConfig } from '../config/index.js';
import { normalizeUuid } from '../domain/identity/uuid.js';
import {
  deadlineReason,
  EMPTY_TALLY,
  type RunLimits,
  runLimitReached,
  tallyPage,
} from '../domain/sync/run-limits.js';
import type { JobPayloads } from '../queue/job-catalogue.js';
import { SyncProducer } from '../queue/sync-producer.js';
import { Db } from '../store/db.js';
import { databaseNow } from './sync-clock.js';
import { SYNC_OPTIONS, type SyncOptions } from './sync-options.js';
import { SyncRunsRepository } from './sync-runs.repository.js';
import { SyncSourcesRepository } from './sync-sources.repository.js';
import { TwinSyncService } from './twin-sync.service.js';
import { ForeignJobError } from './foreign-job.error.js';
import { RunGuard } from './run-guard.js';
import { RunStopped } from './run-stopped.error.js';
import { type UpstreamClient, UpstreamError } from './upstream-client.js';
import { UpstreamClients } from './upstream-clients.js';

export type ScanState = JobPayloads['sync-source'];

/** What a scan needs from the job running it, so the scan itself knows nothing of BullMQ. */
export interface ScanHooks {
  /** Persists the scan position (and the run id) so a retried or resumed job continues where this one stopped. */
  save(state: ScanState): Promise<void>;
  /** True once the process is shutting down: the scan stops between pages. */
  stopping(): boolean;
  progress(pages: number): Promise<void>;
}

/** `backlogged`: the source or account has its cap of twin jobs pending; the scan resumes after a pause. */
export type ScanResult = 'done' | 'stopped' | 'skipped' | 'backlogged';

/** A scan that failed; carries the run it belonged to, so the job can fail the run after its last attempt. */
export class ScanFailure extends Error {
  override name = 'ScanFailure';
  constructor(
    readonly reason: unknown,
    readonly runId: string,
  ) {
    super(reason instanceof Error ? reason.message : String(reason));
  }

  get retryable(): boolean {
    if (this.reason instanceof RunStopped) return false;
    return !(this.reason instanceof UpstreamError) || this.reason.retryable;
  }
}

/**
 * The `sync-source` job: pages through the upstream twins the credential sees (cursor paging; `updated_since` for
 * an incremental run) and fans out one `sync-twin` job per twin. The twins seen are recorded for the run, so a full
 * run can sweep the others at its end and the run knows when every twin is accounted for.
 */
@Injectable()
export class SourceScanService {
  private readonly logger = new Logger('sync');
  private readonly limits: RunLimits;

  constructor(
    @Inject(CONFIG) config: TwindexConfig,
    private readonly db: Db,
    private readonly sources: SyncSourcesRepository,
    private readonly runs: SyncRunsRepository,
    private readonly clients: UpstreamClients,
    private readonly producer: SyncProducer,
    private readonly twins: TwinSyncService,
    @Inject(SYNC_OPTIONS) private readonly options: SyncOptions,
  ) {
    this.limits = {
      maxPages: config.SYNC_RUN_MAX_PAGES,
      maxTwins: config.SYNC_RUN_MAX_TWINS,
      maxIdlePages: config.SYNC_RUN_MAX_IDLE_PAGES,
      deadlineMs: config.SYNC_RUN_DEADLINE_MS,
    };
  }

  async scan(initial: ScanState, hooks: ScanHooks): Promise<ScanResult> {
    let state = { ...initial };
    const source = await this.sources.getWithSecret(state.sourceId);
    if (!source) return 'skipped';
    if (source.account !== state.account) throw new ForeignJobError(state.sourceId, state.account);
    if (state.runId === null) {
      // A scheduled run: created here, once; the id is saved before anything else happens.
      if (!source.enabled) return 'skipped';
      const run = await this.runs.create(this.db, {
        uuid: randomUUID(),
        source: source.uuid,
        account: source.account,
        mode: state.mode,
        trigger: 'schedule',
        nowTs: await databaseNow(this.db),
      });
      state = { ...state, runId: run.uuid };
      await hooks.save(state);
    }
    const runId = state.runId as string;
    let client: UpstreamClient | undefined;
    let guard: RunGuard | undefined;
    try {
      const existing = await this.runs.get(runId);
      if (!existing || existing.status === 'completed' || existing.status === 'failed') return 'skipped';
      // A run id of another source (or account) in the payload: never scanned under this source's credential.
      if (existing.source !== source.uuid || existing.account !== source.account) {
        throw new ForeignJobError(state.sourceId, state.account);
      }
      // Disabled after the run was queued: the run ends here, and the credential is not used.
      if (!source.enabled) throw new RunStopped('scan stopped: the source was disabled');
      let updatedSince: number | null = null;
      if (state.mode === 'incremental') {
        const last = existing.updatedSince ?? (await this.runs.lastCompletedStart(source.uuid));
        updatedSince = last === null ? null : last - this.options.incrementalOverlapSeconds;
      }
      const run = await this.runs.start(runId, await databaseNow(this.db), updatedSince);
      if (!run) return 'skipped';
      // The deadline counts from the run's first start (database clock), across retries and resumes of its scan.
      const startedTs = run.startedTs ?? (await databaseNow(this.db));
      const elapsedMs = (nowTs: number) => (nowTs - startedTs) * 1000;
      guard = new RunGuard(this.sources, source, {
        remainingMs: this.limits.deadlineMs - elapsedMs(await databaseNow(this.db)),
        deadlineReason: deadlineReason(this.limits),
        checkEveryMs: this.options.sourceCheckMs,
      });
      client = this.clients.clientFor(source);
      let pages = state.pages ?? 0;
      // Idle pages are counted within one attempt of the scan; pages and twins across all of them.
      let tally = { ...EMPTY_TALLY, pages, twins: run.twins };
      for (;;) {
        await guard.check();
        // Fair shares (docs/sync.md): while the source or its account has its cap of twin jobs pending, no page is
        // fetched; the job goes back to the queue with its position saved, holding no worker slot meanwhile, and
        // the run's deadline still ends it.
        if (await this.producer.backlogFull(source.uuid, source.account)) {
          if (elapsedMs(await databaseNow(this.db)) >= this.limits.deadlineMs)
            throw new RunStopped(`scan stopped: ${deadlineReason(this.limits)}`);
          await this.runs.addRetries(runId, client.retries);
          return 'backlogged';
        }
        const page = await client.scanTwins({
          cursor: state.cursor ?? null,
          pageSize: this.options.pageSize,
          updatedSince: run.updatedSince ?? undefined,
          signal: guard.signal,
        });
        const twins = new Set<string>();
        for (const entry of page.twins) {
          const uuid = normalizeUuid(typeof entry === 'string' ? entry : entry.uuid);
          if (uuid !== null) twins.add(uuid);
        }
        const list = [...twins];
        const nowTs = await databaseNow(this.db);
        // A cancelled run queues nothing more: its twins' jobs would carry the credential again.
        guard.signal.throwIfAborted();
        const added = await this.runs.addTwins(runId, list, nowTs);
        await this.producer.enqueueTwins(source.uuid, list, { account: source.account });
        const next = page.cursor ? page.cursor : null;
        if (next !== null && next === (state.cursor ?? null)) {
          throw new UpstreamError(
            'GET /twins returned the cursor it was given: paging would never end',
            false,
          );
        }
        pages += 1;
        tally = tallyPage(tally, added);
        state = { ...state, cursor: next, pages };
        await hooks.save(state);
        await hooks.progress(pages);
        if (next === null) break;
        const limit = runLimitReached(tally, this.limits, elapsedMs(nowTs));
        if (limit !== null) throw new RunStopped(`scan stopped: ${limit}`);
        if (hooks.stopping()) {
          await this.runs.addRetries(runId, client.retries);
          return 'stopped';
        }
      }
      await this.runs.finishScan(runId, client.retries);
      // Every twin may already be synced: then closing the run is up to the scan.
      await this.twins.finishRuns([runId]);
      this.logger.log(`sync run ${runId}: scan done after ${pages} page(s)`);
      return 'done';
    } catch (e) {
      // The calls retried before giving up, and this failed attempt itself (BullMQ retries the job).
      await this.runs.addRetries(runId, (client?.retries ?? 0) + 1).catch(() => undefined);
      // Whatever the call in flight said when it was cut, the run stopped for the guard's reason.
      const reason = guard?.signal.aborted ? (guard.signal.reason as unknown) : e;
      throw new ScanFailure(reason, runId);
    } finally {
      guard?.dispose();
    }
  }

  /** After the last attempt: the run is failed with the reason, and no sweep happens. */
  async recordFailure(failure: ScanFailure): Promise<void> {
    await this.runs.fail(failure.runId, {
      twin: null,
      description: `scan failed: ${failure.message}`,
      ts: await databaseNow(this.db),
    });
  }
}
