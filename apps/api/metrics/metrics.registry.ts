import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { RouteLatencyHistogram } from './route-latency.histogram.js';

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

  /** Registers a cache whose counters a scrape reports under `cache="<name>"`. */
  trackCache(name: string, read: () => CacheStatsSnapshot): void {
    this.caches.set(name, read);
  }

  constructor() {
    this.registry.registerMetric(this.requests.asMetric());
    collectDefaultMetrics({ register: this.registry, prefix: 'twindex_' });
  }
}
