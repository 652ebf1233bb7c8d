import { Client } from 'pg';
import { type ChangeKind, type ChangeMessage, parseChangeMessage } from './change-message.js';

export interface ChangeListener {
  /** Keys changed (or 'all'). */
  onChange(message: ChangeMessage): void;
  /** false: the channel is lost and the cache must flush and bypass; true: back, flush once more and trust again. */
  onTrust(trusted: boolean): void;
}

type LagObserver = (lagMs: number) => void;

/**
 * Listens on PostgreSQL's `twindex_changes` channel, which the schema's triggers feed on every committed change
 * to identities, twins and access data — whoever wrote it (API, worker, import, migration, psql).
 * On losing the connection it tells every listener to stop trusting its cache, and reconnects with backoff.
 */
export class ChangeFeed {
  private client: Client | undefined;
  private readonly listeners = new Map<ChangeKind, ChangeListener[]>();
  private lagObserver: LagObserver | undefined;
  private stopped = false;
  private connected = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private attempt = 0;

  constructor(private readonly databaseUrl: string) {}

  subscribe(kind: ChangeKind, listener: ChangeListener): void {
    const list = this.listeners.get(kind) ?? [];
    list.push(listener);
    this.listeners.set(kind, list);
    // A listener added while the channel is down must not trust its cache either.
    if (!this.connected) listener.onTrust(false);
  }

  observeLag(observer: LagObserver): void {
    this.lagObserver = observer;
  }

  get isConnected(): boolean {
    return this.connected;
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const c = this.client;
    this.client = undefined;
    this.setConnected(false);
    await c?.end().catch(() => undefined);
  }

  /** Test hook: drop the connection as a network failure would. */
  killConnection(): void {
    const c = this.client as unknown as { connection?: { stream?: { destroy(): void } } } | undefined;
    c?.connection?.stream?.destroy();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new Client({ connectionString: this.databaseUrl, connectionTimeoutMillis: 3000 });
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    client.on('notification', (n) => {
      if (n.channel !== 'twindex_changes' || !n.payload) return;
      const message = parseChangeMessage(n.payload);
      if (!message) return;
      this.lagObserver?.(Date.now() - message.sentMs);
      for (const l of this.listeners.get(message.kind) ?? []) l.onChange(message);
    });
    this.client = client;
    try {
      await client.connect();
      await client.query('LISTEN twindex_changes');
      this.attempt = 0;
      this.setConnected(true);
    } catch {
      this.lost(client);
    }
  }

  private lost(client: Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    client.end().catch(() => undefined);
    this.setConnected(false);
    if (this.stopped) return;
    const delay = Math.min(5000, 100 * 2 ** this.attempt++) * (0.5 + Math.random() / 2);
    this.reconnectTimer = setTimeout(() => void this.connect(), delay);
  }

  private setConnected(connected: boolean): void {
    if (this.connected === connected && connected) return;
    this.connected = connected;
    for (const list of this.listeners.values()) for (const l of list) l.onTrust(connected);
  }
}
