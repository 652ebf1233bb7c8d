import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { registerBuildInfo } from '../../../libs/observability/build-info.js';
import { RouteLatencyHistogram } from './route-latency.histogram.js';

/** The job states a queue depth is reported for. */
// `prioritized`: every job is added with a fair-share priority (docs/sync.md "Fair shares"), so it waits there.
export const QUEUE_STATES = ['waiting', 'prioritized', 'active', 'delayed', 'failed', 'completed'] as const;
export type QueueState = (typeof QUEUE_STATES)[number];

/** A queue's job counts, or undefined when they could not be read in time (Redis down or slow). */
export type QueueDepthReader = () => Promise<Record<QueueState, number> | undefined>;

export interface CacheStatsSnapshot {
  hits: number;
  misses: number;
  evictions: number;
  bypassed: number;
  size: number;
  bytes: number;
}

/**
 * One registry per API instance (tests run several in one process, so no global default registry).
 * Metric names follow Prometheus conventions: base units, _total for counters.
 */
export class ApiMetrics {
  readonly registry = new Registry();

  readonly requests = new RouteLatencyHistogram();

  readonly invalidationLag = new Histogram({
    name: 'twindex_cache_invalidation_lag_seconds',
    help: 'Time from a committed change to this instance receiving its notification',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  /** Set by whoever owns the change feed; read at scrape time. */
  channelConnected: () => boolean = () => false;

  readonly channelUp: Gauge = new Gauge({
    name: 'twindex_cache_channel_up',
    help: '1 while the change-notification channel is connected (caches trusted), else 0',
    registers: [this.registry],
    collect: () => this.channelUp.set(this.channelConnected() ? 1 : 0),
  });

  /** Set by whoever owns the change feed: its losses so far, by how. */
  channelLosses: () => Readonly<Record<string, number>> = () => ({});

  readonly channelLost: Counter<'how'> = new Counter({
    name: 'twindex_cache_channel_losses_total',
    help: 'Times the change-notification channel was lost (each flushes the caches), by how: silent (no heartbeat echo in time), failed, ended',
    labelNames: ['how'] as const,
    registers: [this.registry],
    collect: () => {
      this.channelLost.reset();
      for (const [how, n] of Object.entries(this.channelLosses())) this.channelLost.inc({ how }, n);
    },
  });

  private readonly caches = new Map<string, () => CacheStatsSnapshot>();

  readonly cacheEvents: Counter<'cache' | 'event'> = new Counter({
    name: 'twindex_cache_events_total',
    help: 'Cache hits, misses, evictions and bypasses (served uncached while the channel is down) by cache',
    labelNames: ['cache', 'event'] as const,
    registers: [this.registry],
    // The caches count for themselves; a scrape copies their counters rather than paying on every lookup.
    collect: () => {
      this.cacheEvents.reset();
      for (const [cache, read] of this.caches) {
        const s = read();
        for (const event of ['hits', 'misses', 'evictions', 'bypassed'] as const) {
          this.cacheEvents.inc({ cache, event }, s[event]);
        }
      }
    },
  });

  readonly cacheSize: Gauge<'cache'> = new Gauge({
    name: 'twindex_cache_entries',
    help: 'Entries held by cache',
    labelNames: ['cache'] as const,
    registers: [this.registry],
    collect: () => {
      for (const [cache, read] of this.caches) this.cacheSize.set({ cache }, read().size);
    },
  });

  readonly cacheBytes: Gauge<'cache'> = new Gauge({
    name: 'twindex_cache_bytes',
    help: 'Estimated bytes held by cache (the figure its byte bound applies to)',
    labelNames: ['cache'] as const,
    registers: [this.registry],
    collect: () => {
      for (const [cache, read] of this.caches) this.cacheBytes.set({ cache }, read().bytes);
    },
  });

  private readonly queues = new Map<string, QueueDepthReader>();

  readonly queueJobs: Gauge<'queue' | 'state'> = new Gauge({
    name: 'twindex_queue_jobs',
    help: 'Jobs per queue and state (waiting, active, delayed, failed, completed), read from Redis at scrape time',
    labelNames: ['queue', 'state'] as const,
    registers: [this.registry],
    collect: () => this.collectQueues(),
  });

  readonly queueUp: Gauge<'queue'> = new Gauge({
    name: 'twindex_queue_up',
    help: "1 when the queue's job counts were read at this scrape, 0 when Redis did not answer in time",
    labelNames: ['queue'] as const,
    registers: [this.registry],
    collect: () => this.collectQueues(),
  });

  /** Registers a queue whose depths a scrape reports under `queue="<name>"`. */
  trackQueue(name: string, read: QueueDepthReader): void {
    this.queues.set(name, read);
  }

  private queuesCollecting: Promise<void> | undefined;

  /** Both queue gauges share one read per scrape (the registry collects metrics concurrently). */
  private collectQueues(): Promise<void> {
    this.queuesCollecting ??= this.readQueues().finally(() => (this.queuesCollecting = undefined));
    return this.queuesCollecting;
  }

  /** Every queue is read in parallel; one that does not answer loses its depth series (no stale numbers). */
  private async readQueues(): Promise<void> {
    const reads = [...this.queues].map(async ([queue, read]) => {
      const counts = await read().catch(() => undefined);
      this.queueUp.set({ queue }, counts ? 1 : 0);
      for (const state of QUEUE_STATES) {
        if (counts) this.queueJobs.set({ queue, state }, counts[state] ?? 0);
        else this.queueJobs.remove({ queue, state });
      }
    });
    await Promise.all(reads);
  }

  /** Registers a cache whose counters a scrape reports under `cache="<name>"`. */
  trackCache(name: string, read: () => CacheStatsSnapshot): void {
    this.caches.set(name, read);
  }

  constructor() {
    this.registry.registerMetric(this.requests.asMetric());
    collectDefaultMetrics({ register: this.registry, prefix: 'twindex_' });
    registerBuildInfo(this.registry);
  }
}
