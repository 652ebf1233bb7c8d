import type { RouteLatencyHistogram } from '../metrics/route-latency.histogram.js';
import { formatRequestLine } from './request-log.js';

interface LineSink {
  write(line: string): unknown;
}

/**
 * What every request pays after its answer, whichever path served it (Nest routes through Fastify's onResponse hook,
 * the lean resolve route directly): one latency observation and, at `info` or below, one log line.
 */
export class RequestAccounting {
  constructor(
    private readonly latency: RouteLatencyHistogram,
    private readonly log: LineSink | undefined,
  ) {}

  record(
    method: string,
    route: string,
    status: number,
    durationMs: number,
    trace: string,
    account: string | undefined,
  ): void {
    this.latency.observe(method, route, status, durationMs / 1000);
    // One line per request; the account comes from the verified principal, never from a header.
    if (this.log !== undefined) {
      this.log.write(formatRequestLine({ method, route, status, durationMs, trace, account }, Date.now()));
    }
  }
}
