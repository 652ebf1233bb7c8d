import { Registry } from 'prom-client';
import { RouteLatencyHistogram } from './route-latency.histogram.js';

describe('RouteLatencyHistogram', () => {
  it('renders cumulative buckets, sum and count per route and status in Prometheus text format', async () => {
    const registry = new Registry();
    const h = new RouteLatencyHistogram();
    registry.registerMetric(h.asMetric());
    h.observe('GET', '/resolve/:identity', 200, 0.0004);
    h.observe('GET', '/resolve/:identity', 200, 0.003);
    h.observe('GET', '/resolve/:identity', 200, 9);
    h.observe('GET', '/resolve/:identity', 404, 0.02);
    const text = await registry.metrics();
    const line = (suffix: string, labels: string) =>
      text.split('\n').find((l) => l.startsWith(`twindex_http_request_duration_seconds${suffix}{${labels}}`));
    const ok = 'method="GET",route="/resolve/:identity",status="200"';
    expect(text).toContain('# TYPE twindex_http_request_duration_seconds histogram');
    expect(line('_bucket', `${ok},le="0.0005"`)).toMatch(/ 1$/);
    expect(line('_bucket', `${ok},le="0.005"`)).toMatch(/ 2$/);
    expect(line('_bucket', `${ok},le="5"`)).toMatch(/ 2$/);
    expect(line('_bucket', `${ok},le="+Inf"`)).toMatch(/ 3$/);
    expect(line('_count', ok)).toMatch(/ 3$/);
    expect(Number(line('_sum', ok)?.split(' ')[1])).toBeCloseTo(9.0034);
    expect(line('_count', 'method="GET",route="/resolve/:identity",status="404"')).toMatch(/ 1$/);
  });
});
