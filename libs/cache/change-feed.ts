import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { connectionOptions, type PgDeadlines } from '../store/db.js';
import { type ChangeKind, type ChangeMessage, parseChangeMessage } from './change-message.js';

export interface ChangeListener {
  /** Keys changed (or 'all'). */
  onChange(message: ChangeMessage): void;
  /** false: the channel is lost and the cache must flush and bypass; true: back, flush once more and trust again. */
  onTrust(trusted: boolean): void;
}

type LagObserver = (lagMs: number) => void;

/** How the channel was lost: no heartbeat echo in time, an error (or a failed query), or the connection ended. */
export type ChannelLoss = 'silent' | 'failed' | 'ended';

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
  /** Our own heartbeats carry this token, so each instance recognises the echo of its own ping. */
  private readonly heartbeatToken = randomBytes(8).toString('hex');
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private lastEchoMs = 0;
  /**
   * Times the channel was lost, by how: every loss flushes the caches, so an operator who sees hit rates fall needs to
   * tell a silent connection (no heartbeat echo, e.g. a stalled host or a partition) from one that failed or ended.
   */
  readonly losses: Record<ChannelLoss, number> = { silent: 0, failed: 0, ended: 0 };

  /**
   * @param heartbeatMs how often the listening connection pings itself through the channel. A connection that dies
   *   without being closed (partition, NAT timeout, failover) raises no error; a ping that does not come back within
   *   three periods is treated as a lost channel, so caches stop being trusted within about a second.
   */
  constructor(
    private readonly databaseUrl: string,
    private readonly heartbeatMs = 400,
    /** Without deadlines a LISTEN sent into a partition would wait forever and the feed would never reconnect. */
    private readonly deadlines: PgDeadlines = {
      connectTimeoutMs: 3000,
      statementTimeoutMs: 5000,
      idleInTransactionTimeoutMs: 10_000,
      keepAliveMs: 10_000,
    },
  ) {}

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
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
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
    const client = new Client({ connectionString: this.databaseUrl, ...connectionOptions(this.deadlines) });
    client.on('error', () => this.lost(client, 'failed'));
    client.on('end', () => this.lost(client, 'ended'));
    client.on('notification', (n) => {
      if (n.channel !== 'twindex_changes' || !n.payload) return;
      if (n.payload.startsWith('h|')) {
        if (n.payload.endsWith(this.heartbeatToken)) this.lastEchoMs = Date.now();
        return;
      }
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
      this.lastEchoMs = Date.now();
      this.startHeartbeat(client);
      this.setConnected(true);
    } catch {
      this.lost(client, 'failed');
    }
  }

  private startHeartbeat(client: Client): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    // One ping at a time: a slow connection must not get a queue of them (pg warns about overlapping queries on
    // one client); a ping that never returns is caught by the echo check below.
    let pinging = false;
    let lastBeatMs = Date.now();
    this.heartbeatTimer = setInterval(() => {
      if (this.client !== client) return;
      const now = Date.now();
      // A beat that comes late means this process's event loop was blocked (GC, a long batch, a busy machine): the
      // echo may be sitting unread in the socket, so judge the connection only after a loop turn has read it.
      const late = now - lastBeatMs > 2 * this.heartbeatMs;
      lastBeatMs = now;
      if (late) this.lastEchoMs = Math.max(this.lastEchoMs, now - this.heartbeatMs);
      if (now - this.lastEchoMs > 3 * this.heartbeatMs) {
        // Silent death: destroy the socket so 'error'/'end' run the usual loss handling.
        this.killConnection();
        this.lost(client, 'silent');
        return;
      }
      if (pinging) return;
      pinging = true;
      client
        .query(`SELECT pg_notify('twindex_changes', $1)`, [`h|${this.heartbeatToken}`])
        .catch(() => this.lost(client, 'failed'))
        .finally(() => (pinging = false));
    }, this.heartbeatMs);
    this.heartbeatTimer.unref();
  }

  private lost(client: Client, how: ChannelLoss): void {
    if (this.client !== client) return;
    // Counted only while it was up: a failed reconnection attempt is not another loss.
    if (this.connected) this.losses[how]++;
    this.client = undefined;
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
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
