import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { registerBuildInfo } from '../../../libs/observability/build-info.js';

export type JobOutcome = 'completed' | 'failed' | 'retried' | 'stalled';

/**
 * The worker's own metrics (docs/operations.md "Metrics"), served on WORKER_METRICS_PORT. One registry per worker
 * context: tests start several in one process. Names follow Prometheus conventions (base units, `_total` for
 * counters).
 */
export class WorkerMetrics {
  readonly registry = new Registry();

  readonly jobs = new Counter({
    name: 'twindex_worker_jobs_total',
    help: 'Jobs this worker finished, by queue, job name and outcome (completed, failed, retried, stalled)',
    labelNames: ['queue', 'name', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly jobDuration = new Histogram({
    name: 'twindex_worker_job_duration_seconds',
    help: 'Time from a job becoming active to its completion or failure, by queue, job name and outcome',
    labelNames: ['queue', 'name', 'outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });

  readonly syncTwins = new Counter({
    name: 'twindex_sync_twins_total',
    help: 'Twins reconciled by sync-twin jobs, by result (e.g. upserted, deleted, unchanged)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly syncIdentities = new Counter({
    name: 'twindex_sync_identities_total',
    help: 'Identity rows written by sync, by change (upserted, deleted)',
    labelNames: ['change'] as const,
    registers: [this.registry],
  });

  readonly importRows = new Counter({
    name: 'twindex_import_rows_total',
    help: 'Import lines merged into the index or skipped as bad, by outcome (merged, skipped)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  constructor() {
    // Every series exists from the start, so rate() and alerts see a 0 rather than nothing.
    for (const change of ['upserted', 'deleted']) this.syncIdentities.inc({ change }, 0);
    for (const outcome of ['merged', 'skipped']) this.importRows.inc({ outcome }, 0);
    registerBuildInfo(this.registry);
    collectDefaultMetrics({ register: this.registry, prefix: 'twindex_' });
  }
}
