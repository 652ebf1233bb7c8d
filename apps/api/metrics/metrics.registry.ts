import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * One registry per API instance (tests run several in one process, so no global default registry).
 * Metric names follow Prometheus conventions: base units, _total for counters.
 */
export class ApiMetrics {
  readonly registry = new Registry();

  readonly requests = new Histogram({
    name: 'twindex_http_request_duration_seconds',
    help: 'HTTP request latency by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [this.registry],
  });

  readonly invalidationLag = new Histogram({
    name: 'twindex_cache_invalidation_lag_seconds',
    help: 'Time from a committed change to this instance receiving its notification',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly channelUp = new Gauge({
    name: 'twindex_cache_channel_up',
    help: '1 while the change-notification channel is connected (caches trusted), else 0',
    registers: [this.registry],
  });

  readonly cacheEvents = new Counter({
    name: 'twindex_cache_events_total',
    help: 'Cache hits, misses, evictions and bypasses by cache',
    labelNames: ['cache', 'event'] as const,
    registers: [this.registry],
  });

  readonly cacheSize = new Gauge({
    name: 'twindex_cache_entries',
    help: 'Entries held by cache',
    labelNames: ['cache'] as const,
    registers: [this.registry],
  });

  readonly cacheBytes = new Gauge({
    name: 'twindex_cache_bytes',
    help: 'Estimated bytes held by cache',
    labelNames: ['cache'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'twindex_' });
  }
}
