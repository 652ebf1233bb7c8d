import { randomUUID } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { nowSeconds } from '../../../libs/clock/clock.js';
import { CONFIG, type TwindexConfig } from '../../../libs/config/index.js';
import { afterFailure } from '../../../libs/domain/notifications/delivery-backoff.js';
import {
  batchEnvelope,
  confirmationEnvelope,
  notificationEnvelope,
} from '../../../libs/domain/notifications/envelope.js';
import { hashKey } from '../../../libs/domain/notifications/message-hash.js';
import { SubscriptionSecrets } from '../../../libs/notifications/subscription-secrets.js';
import { publicBase, subscriptionUrl } from '../../../libs/notifications/subscription-urls.js';
import { Db } from '../../../libs/store/db.js';
import { UpstreamAddressPolicy } from '../../../libs/sync/upstream-address.js';
import { WorkerMetrics } from '../metrics/index.js';
import { CallbackSender } from './callback-sender.js';
import { DeliveryRepository, type DueSubscription } from './delivery.repository.js';
import { BoundedDeliverySlots, type DeliverySlots } from './delivery-slots.js';
import { OutboxDispatcher } from './outbox-dispatcher.js';

/** A claimed subscription is this worker's for this long; a crashed worker's claims lapse after it. */
const LEASE_SECONDS = 30;
/** Messages one claim sends before giving the slot back, so that a busy subscription does not starve others. */
const MESSAGES_PER_CLAIM = 100;
/** Without a wake-up, the loop still looks this often (retries falling due, a missed notification). */
const IDLE_PASS_MS = 5_000;

/**
 * Delivers queued messages and confirmations to callbacks (docs/notifications.md "Delivery guarantees"). Woken by
 * the database (OutboxListener: pg_notify at commit) and by its own timers for retries. Each pass drains the
 * outbox into messages, then claims due subscriptions (leased in PostgreSQL, so several workers never send for the
 * same subscription at once) and starts a delivery for each that the slots allow. A subscription's messages go one
 * POST at a time in `sequence` order; a message is deleted only after a 2xx, so a crash resends it with the same
 * `message` id and `sequence`.
 */
@Injectable()
export class DeliveryLoop implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('notify');
  private readonly sender: CallbackSender;
  private readonly secrets: SubscriptionSecrets | undefined;
  private readonly base: string;
  readonly slots: DeliverySlots;
  private readonly inFlight = new Map<string, Promise<void>>();
  private passing: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** This process, as the owner of its leases. */
  private readonly owner = randomUUID();

  constructor(
    @Inject(CONFIG) config: TwindexConfig,
    private readonly db: Db,
    private readonly dispatcher: OutboxDispatcher,
    private readonly delivery: DeliveryRepository,
    private readonly metrics: WorkerMetrics,
  ) {
    this.sender = new CallbackSender(UpstreamAddressPolicy.fromList(config.SYNC_ALLOWED_HOSTS));
    this.secrets = config.TWINDEX_SECRET_KEY ? new SubscriptionSecrets(config.TWINDEX_SECRET_KEY) : undefined;
    this.base = publicBase(config);
    this.slots = new BoundedDeliverySlots(config.NOTIFY_CONCURRENCY, config.NOTIFY_CONCURRENCY_PER_ACCOUNT);
  }

  onApplicationBootstrap(): void {
    this.wake();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.passing;
    await Promise.allSettled([...this.inFlight.values()]);
    await this.sender.close();
  }

  /** Runs a pass now, or right after the one running (wake-ups during a pass are never lost). */
  wake(): void {
    if (this.stopped) return;
    if (this.passing) {
      this.again = true;
      return;
    }
    this.passing = this.pass()
      .catch((e: unknown) => {
        this.logger.warn(`delivery pass failed: ${(e as Error).message}`);
      })
      .finally(() => {
        this.passing = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  private async pass(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    let delay = IDLE_PASS_MS;
    try {
      await this.dispatcher.drain();
      const now = nowSeconds();
      await this.startDue(now);
      const next = await this.delivery.nextAttemptAt(this.db, now);
      if (next !== undefined) delay = Math.min(IDLE_PASS_MS, Math.max(10, (next - now) * 1000));
    } finally {
      // Even after a failed pass (database away, a deadlock victim) the loop looks again.
      if (!this.stopped) {
        this.timer = setTimeout(() => this.wake(), delay);
        this.timer.unref();
      }
    }
  }

  private async startDue(now: number): Promise<void> {
    const room = Math.max(0, 200 - this.inFlight.size);
    const due = room > 0 ? await this.delivery.claimDue(this.db, this.owner, now, LEASE_SECONDS, room) : [];
    const unstarted: string[] = [];
    for (const sub of this.slots.order(due)) {
      // Already being delivered here (its lease was ours): it goes on; the claim only extended the lease.
      if (this.inFlight.has(sub.uuid)) continue;
      if (!this.slots.tryAcquire(sub.subscriber)) {
        unstarted.push(sub.uuid);
        continue;
      }
      const run = this.deliver(sub)
        .catch((e: unknown) =>
          this.logger.warn(`delivery to subscription ${sub.uuid} failed: ${(e as Error).message}`),
        )
        .finally(() => {
          this.slots.release(sub.subscriber);
          this.inFlight.delete(sub.uuid);
          // A slot came free: whoever waited for it is looked at now.
          this.wake();
        });
      this.inFlight.set(sub.uuid, run);
    }
    // Claimed but over its account's bound: handed back at once for the next pass (or another worker).
    await this.delivery.release(this.db, unstarted);
  }

  private async deliver(sub: DueSubscription): Promise<void> {
    const token = this.secrets?.token(sub.uuid, sub.account, sub.token_nonce);
    if (!this.secrets || token === undefined) return;
    const url = subscriptionUrl(this.base, sub.account, token);
    const key = sub.hash_key_sealed ? this.keyOf(sub) : undefined;
    const ref = { topic: sub.topic, account: sub.account, validity_ts: sub.validity_ts };
    try {
      if (sub.status === 'pending') {
        const body = confirmationEnvelope(randomUUID(), ref, url, nowSeconds(), key);
        const outcome = await this.sender.post(sub.callback_url, JSON.stringify(body));
        if (outcome.ok) await this.delivery.confirmationSent(this.db, sub.uuid, nowSeconds());
        else await this.recordFailure(sub, outcome.error, outcome.retryAfterSeconds);
        return;
      }
      let sent = 0;
      let failures = sub.failures;
      while (sent < MESSAGES_PER_CLAIM && !this.stopped) {
        // Unsubscribed, ended or expired meanwhile: nothing more is sent.
        const current = await this.delivery.nextBatch(this.db, sub.uuid, sub.max_batch ?? 1);
        if (!current || current.status !== 'active') return;
        const batch = current.messages;
        if (batch.length === 0) return;
        const sentTs = nowSeconds();
        const envelopes = batch.map((m) =>
          notificationEnvelope(
            {
              trigger: m.trigger,
              message: m.message,
              twin: m.twin,
              event: m.event,
              sequence: Number(m.sequence),
              subscription: { ...ref, validity_ts: current.validity_ts },
              url,
            },
            sentTs,
            key,
          ),
        );
        const body = sub.max_batch === null ? envelopes[0] : batchEnvelope(envelopes);
        const outcome = await this.sender.post(sub.callback_url, JSON.stringify(body));
        if (!outcome.ok) {
          await this.recordFailure({ ...sub, failures }, outcome.error, outcome.retryAfterSeconds);
          return;
        }
        const done = nowSeconds();
        await this.delivery.delivered(this.db, sub.uuid, batch[batch.length - 1].sequence, done);
        this.metrics.notifyDeliveries.inc({ outcome: 'sent' }, batch.length);
        for (const m of batch) this.metrics.notifyLatency.observe(Math.max(0, done - m.changed_ts));
        sent += batch.length;
        failures = 0;
      }
    } finally {
      await this.delivery.release(this.db, [sub.uuid]).catch(() => undefined);
    }
  }

  private async recordFailure(
    sub: DueSubscription,
    error: string,
    retryAfterSeconds?: number,
  ): Promise<void> {
    const now = nowSeconds();
    const next = afterFailure(
      sub.failures + 1,
      sub.failing_since ?? now,
      now,
      Math.random(),
      retryAfterSeconds,
    );
    if (next.kind === 'suspend') {
      this.metrics.notifyDeliveries.inc({ outcome: 'suspended' });
      await this.delivery.failed(this.db, sub.uuid, { suspend: true }, error, now);
      this.logger.warn(`subscription ${sub.uuid} suspended after 24 h of failures: ${error}`);
      return;
    }
    this.metrics.notifyDeliveries.inc({ outcome: 'failed' });
    this.metrics.notifyDeliveries.inc({ outcome: 'retried' });
    await this.delivery.failed(this.db, sub.uuid, { retryAt: next.at }, error, now);
  }

  private keyOf(sub: DueSubscription): Uint8Array | undefined {
    try {
      const { clientSecret, serverSecret } = this.secrets!.openHashKey(sub.uuid, sub.hash_key_sealed!);
      return hashKey(clientSecret, serverSecret);
    } catch {
      // A key that no longer opens (TWINDEX_SECRET_KEY rotated): sending unhashed would look like a forgery to the
      // receiver, so the delivery fails visibly instead.
      throw new Error('the subscription hash key does not open with this TWINDEX_SECRET_KEY');
    }
  }
}
