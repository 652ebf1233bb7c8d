import { Injectable, Logger } from '@nestjs/common';
import { planIdentities, planTwin, rejectionLines } from './reconcile-plan.js';
import { type RunError, SyncRunsRepository } from './sync-runs.repository.js';
import { SyncSourcesRepository } from './sync-sources.repository.js';
import { type ReconcileOutcome, TwinReconciler, type UpstreamTwinState } from './twin-reconciler.js';
import { UpstreamClients } from './upstream-clients.js';
import { UpstreamError } from './upstream-client.js';
import { ForeignJobError } from './foreign-job.error.js';

/** A twin sync that did not get a complete upstream answer; nothing was reconciled. */
export class TwinSyncFailure extends Error {
  override name = 'TwinSyncFailure';
  constructor(
    override readonly cause: unknown,
    readonly fetchStartTs: number,
    readonly retries: number,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
  }

  /** Worth another job attempt: upstream trouble that may pass, or the database going away. */
  get retryable(): boolean {
    return !(this.cause instanceof UpstreamError) || this.cause.retryable;
  }
}

/** The `sync-twin` job: fetch the twin and its identities upstream, then reconcile them in one transaction. */
@Injectable()
export class TwinSyncService {
  private readonly logger = new Logger('sync');

  constructor(
    private readonly sources: SyncSourcesRepository,
    private readonly runs: SyncRunsRepository,
    private readonly clients: UpstreamClients,
    private readonly reconciler: TwinReconciler,
  ) {}

  /** Throws TwinSyncFailure when upstream did not answer completely. `previousAttempts` count as retries. */
  async sync(
    sourceId: string,
    twin: string,
    previousAttempts = 0,
    account?: string,
  ): Promise<ReconcileOutcome> {
    const source = await this.sources.getWithSecret(sourceId);
    if (!source) return { result: 'source_gone', upserted: 0, deleted: 0, runs: [] };
    // Jobs name the account recorded for the source; another (or none) means a forged or stale payload.
    if (account !== undefined && source.account !== account) throw new ForeignJobError(sourceId, account);
    // A disabled source syncs nothing, and its credential is not used: the twin counts as failed for any run still
    // waiting for it (the run itself was stopped by its scan), so no run waits for it forever.
    if (!source.enabled) {
      await this.recordFailure(
        sourceId,
        twin,
        new TwinSyncFailure(new Error('not synced: the source is disabled'), source.nowTs, previousAttempts),
      );
      return { result: 'source_gone', upserted: 0, deleted: 0, runs: [] };
    }
    // By the database's clock, read with the source: the time that orders this sync against others of the twin.
    const fetchStartTs = source.nowTs;
    const client = (() => {
      try {
        return this.clients.clientFor(source);
      } catch (e) {
        throw new TwinSyncFailure(e, fetchStartTs, previousAttempts);
      }
    })();
    let state: UpstreamTwinState;
    const errors: RunError[] = [];
    try {
      const upstreamTwin = await client.getTwin(twin);
      if (upstreamTwin === null) {
        state = { kind: 'absent' };
      } else {
        const planned = planTwin(twin, upstreamTwin);
        if ('invalid' in planned) throw new UpstreamError(`GET /twins/${twin}: ${planned.invalid}`, false);
        const identities = await client.getIdentities(twin, source.includeForeign);
        if (identities === null) {
          state = { kind: 'absent' };
        } else {
          const plan = planIdentities(source.account, source.includeForeign, identities);
          for (const description of rejectionLines(plan.rejected)) {
            errors.push({ twin, description, ts: fetchStartTs });
          }
          state = { kind: 'present', twin: planned, identities: plan, fetchedForeign: source.includeForeign };
        }
      }
    } catch (e) {
      throw new TwinSyncFailure(e, fetchStartTs, client.retries + previousAttempts);
    }
    let outcome: ReconcileOutcome;
    try {
      outcome = await this.reconciler.reconcile({
        source: sourceId,
        twin,
        fetchStartTs,
        state,
        retries: client.retries + previousAttempts,
        errors,
      });
    } catch (e) {
      // The database failed us (gone, deadlock): nothing was committed; the job tries again.
      throw new TwinSyncFailure(e, fetchStartTs, client.retries + previousAttempts);
    }
    await this.finishRuns(outcome.runs);
    return outcome;
  }

  /** After the last attempt failed: every run waiting for the twin counts it as failed, with the reason. */
  async recordFailure(sourceId: string, twin: string, failure: TwinSyncFailure): Promise<void> {
    const runs = await this.runs.markTwinFailed({
      source: sourceId,
      twin,
      fetchStartTs: failure.fetchStartTs,
      retries: failure.retries,
      error: { twin, description: failure.message, ts: failure.fetchStartTs },
    });
    await this.finishRuns(runs);
  }

  /** Closes the runs that have nothing left to wait for (the last twin of a run closes it). */
  async finishRuns(runs: readonly string[]): Promise<void> {
    for (const run of runs) {
      if (await this.runs.finishIfDone(run)) this.logger.log(`sync run ${run} completed`);
    }
  }
}
