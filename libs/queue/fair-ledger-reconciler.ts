import { Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Job } from 'bullmq';
import { FairLedger, type QueueLike } from './fair-ledger.js';
import { FAIR_GROUPS } from './fair-groups.js';
import type { QueueName } from './job-catalogue.js';

/** How often a worker recounts the ledgers from the queues (beside once at start). */
export const RECONCILE_EVERY_MS = 60_000;

/** A job has ended for good: completed, or failed with no attempt left (a retry leaves `finishedOn` unset). */
export function endedForGood(job: Pick<Job, 'finishedOn'> | undefined): boolean {
  return typeof job?.finishedOn === 'number';
}

const workerLedgers = new WeakMap<QueueLike, FairLedger>();

/**
 * For a processor's `completed` and `failed` events: once the job has ended for good, its places in its queue's
 * ledger are given back. A worker that dies before this leaves them taken until the next reconcile.
 */
export function settleIfEnded(
  worker: QueueLike,
  job: Pick<Job, 'id' | 'data' | 'finishedOn'> | undefined,
  onError: (e: Error) => void,
): void {
  if (!job || !endedForGood(job)) return;
  let ledger = workerLedgers.get(worker);
  if (!ledger) {
    ledger = new FairLedger(worker, FAIR_GROUPS[worker.name as QueueName]);
    workerLedgers.set(worker, ledger);
  }
  ledger.settle(job).catch(onError);
}

/**
 * Recounts some queues' FairLedgers from the queues themselves, at worker start (awaited, so a worker that died
 * between a job's end and its release leaves no place taken once one starts again) and every minute after — by one
 * worker of the fleet per minute (`claimReconcile`): a pass reads every pending job's payload, which is worth doing
 * once, not once per pod.
 */
export class FairLedgerReconciler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('fair-ledger');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly ledgers: readonly FairLedger[]) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.kick(false);
    this.timer = setInterval(() => void this.kick(true), RECONCILE_EVERY_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  private kick(periodic: boolean): Promise<void> {
    this.running ??= this.pass(periodic).finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(periodic: boolean): Promise<void> {
    for (const ledger of this.ledgers) {
      try {
        if (periodic && !(await ledger.claimReconcile(RECONCILE_EVERY_MS - 1_000))) continue;
        const repaired = await ledger.reconcile();
        if (repaired > 0)
          this.logger.warn(`${ledger.key}: ${repaired} group count(s) repaired from the queue`);
      } catch (e) {
        this.logger.warn(`${ledger.key}: reconcile failed: ${(e as Error).message}`);
      }
    }
  }
}
