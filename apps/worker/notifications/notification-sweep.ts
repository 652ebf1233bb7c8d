import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { nowSeconds } from '../../../libs/clock/clock.js';
import { Db } from '../../../libs/store/db.js';
import { WorkerMetrics } from '../metrics/index.js';
import { DeliveryLoop } from './delivery-loop.js';
import { DeliveryRepository } from './delivery.repository.js';

/** identity.expired is published at most this late (docs/notifications.md: 60 s). */
const SWEEP_MS = 15_000;
const KEEP_MESSAGES_SECONDS = 7 * 24 * 3600;
const WATERMARK = 'identity.expired';

/**
 * The periodic part of notifications, in every worker (each step is idempotent or serialised by its own lock):
 * publishes `identity.expired` for validities that passed since the last sweep, expires subscriptions past their
 * validity, trims messages older than 7 days, and sets the outbox gauges.
 */
@Injectable()
export class NotificationSweep implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('notify');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly db: Db,
    private readonly delivery: DeliveryRepository,
    private readonly loop: DeliveryLoop,
    private readonly metrics: WorkerMetrics,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.tick()
        .catch((e: unknown) => this.logger.warn(`notification sweep skipped: ${(e as Error).message}`))
        .finally(() => (this.running = undefined));
    }, SWEEP_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  async tick(now = nowSeconds()): Promise<void> {
    const published = await this.db.transaction(async (tx) => {
      // One sweeper at a time moves the watermark; the others skip this part.
      const [lock] = await tx.query<{ ok: boolean }>(
        `SELECT pg_try_advisory_xact_lock(hashtext('twindex-notify-expiry')) AS ok`,
      );
      if (!lock.ok) return 0;
      // First sweep: start from now, not from the beginning of time (old expiries are not news).
      const after = (await this.delivery.watermark(tx, WATERMARK)) ?? now;
      const n = after < now ? await this.delivery.publishExpired(tx, after, now) : 0;
      await this.delivery.setWatermark(tx, WATERMARK, Math.max(after, now));
      return n;
    });
    await this.delivery.expireAndTrim(this.db, now, KEEP_MESSAGES_SECONDS);
    const depth = await this.delivery.depth(this.db);
    this.metrics.notifyOutbox.set({ stage: 'events' }, depth.events);
    this.metrics.notifyOutbox.set({ stage: 'messages' }, depth.messages);
    this.metrics.notifySuspended.set(depth.suspended);
    if (published > 0) this.loop.wake();
  }
}
