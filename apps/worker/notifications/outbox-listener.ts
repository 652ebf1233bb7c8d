import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { Client } from 'pg';
import { CONFIG, type TwindexConfig } from '../../../libs/config/index.js';
import { DeliveryLoop } from './delivery-loop.js';

const RECONNECT_MS = 1_000;

/**
 * Wakes the delivery loop when a transaction that wrote the outbox (or subscribed, confirmed, refreshed) commits:
 * `LISTEN twindex_outbox` on a connection of its own. After a lost connection it reconnects and wakes the loop once,
 * since notifications sent meanwhile are gone; the loop's idle pass is the last safety net.
 */
@Injectable()
export class OutboxListener implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('notify');
  private client: Client | undefined;
  private stopped = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    @Inject(CONFIG) private readonly config: TwindexConfig,
    private readonly loop: DeliveryLoop,
  ) {}

  onApplicationBootstrap(): void {
    void this.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    await this.client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new Client({ connectionString: this.config.DATABASE_URL, keepAlive: true });
    client.on('notification', () => this.loop.wake());
    client.on('error', () => this.reconnect(client));
    client.on('end', () => this.reconnect(client));
    try {
      await client.connect();
      await client.query('LISTEN twindex_outbox');
      this.client = client;
      this.loop.wake();
    } catch (e) {
      this.logger.warn(`outbox listener not connected: ${(e as Error).message}`);
      this.reconnect(client);
    }
  }

  private reconnect(client: Client): void {
    if (this.stopped || this.retry) return;
    if (this.client === client) this.client = undefined;
    void client.end().catch(() => undefined);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.connect();
    }, RECONNECT_MS);
    this.retry.unref();
  }
}
