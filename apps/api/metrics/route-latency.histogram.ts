import type { Metric } from 'prom-client';

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5] as const;

interface Series {
  method: string;
  route: string;
  status: string;
  /** Non-cumulative counts per bucket; the last slot is "above every bucket" (+Inf only). */
  counts: Float64Array;
  sum: number;
}

/**
 * Request latency by route and status, in Prometheus histogram format, registered with the prom-client registry as a
 * custom metric. prom-client's own Histogram.observe measured at about a third of a cached resolution's cost in the
 * API process (label hashing and closures per call); this one costs a Map lookup and a short loop, and does the
 * formatting work at scrape time instead.
 */
export class RouteLatencyHistogram {
  readonly name = 'twindex_http_request_duration_seconds';
  readonly help = 'HTTP request latency by route and status';
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, Series>();

  observe(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${status} ${route}`;
    let s = this.series.get(key);
    if (s === undefined) {
      s = { method, route, status: String(status), counts: new Float64Array(BUCKETS.length + 1), sum: 0 };
      this.series.set(key, s);
    }
    let i = 0;
    while (i < BUCKETS.length && seconds > BUCKETS[i]) i++;
    s.counts[i]++;
    s.sum += seconds;
  }

  /** The shape prom-client's registry formats (it calls `get()` on every registered metric at scrape time). */
  get() {
    const values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }> = [];
    for (const s of this.series.values()) {
      const labels = { method: s.method, route: s.route, status: s.status };
      let cumulative = 0;
      for (let i = 0; i < BUCKETS.length; i++) {
        cumulative += s.counts[i];
        values.push({
          metricName: `${this.name}_bucket`,
          labels: { ...labels, le: BUCKETS[i] },
          value: cumulative,
        });
      }
      cumulative += s.counts[BUCKETS.length];
      values.push({
        metricName: `${this.name}_bucket`,
        labels: { ...labels, le: '+Inf' },
        value: cumulative,
      });
      values.push({ metricName: `${this.name}_sum`, labels, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels, value: cumulative });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.series.clear();
  }

  /** For registry.registerMetric, which is typed for prom-client's own classes. */
  asMetric(): Metric {
    return this as unknown as Metric;
  }
}
