import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { registerBuildInfo } from '../../../libs/observability/build-info.js';

export type JobOutcome = 'completed' | 'failed' | 'retried' | 'stalled';

/**
 * The job states that are work not yet started: what an autoscaler scales the worker on. A raw Redis list length
 * would miss prioritized jobs (a sorted set since BullMQ 4) and delayed ones (retries waiting out their backoff).
 */
export const BACKLOG_STATES = ['waiting', 'prioritized', 'delayed'] as const;
export type BacklogState = (typeof BACKLOG_STATES)[number];
export type BacklogCounts = Record<BacklogState, number>;
/** A queue's backlog, or undefined when Redis did not answer in time. */
export type BacklogReader = () => Promise<BacklogCounts | undefined>;

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

  readonly notifyDeliveries = new Counter({
    name: 'twindex_notify_deliveries_total',
    help: 'Callback POSTs of notification messages and confirmations, by outcome (sent, failed, retried, suspended)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly notifyLatency = new Histogram({
    name: 'twindex_notify_latency_seconds',
    help: "From the change's commit (its event's changed_ts) to the receiver's 2xx, per message",
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60, 600, 3600],
    registers: [this.registry],
  });

  readonly notifyOutbox = new Gauge({
    name: 'twindex_notify_outbox_rows',
    help: 'Rows waiting in the notification outbox, by stage (events: not yet fanned out; messages: not yet delivered)',
    labelNames: ['stage'] as const,
    registers: [this.registry],
  });

  readonly notifySuspended = new Gauge({
    name: 'twindex_notify_suspended_subscriptions',
    help: 'Subscriptions suspended after 24 h of failed deliveries',
    registers: [this.registry],
  });

  private readonly backlogs = new Map<string, BacklogReader>();

  readonly queueJobs: Gauge<'queue' | 'state'> = new Gauge({
    name: 'twindex_worker_queue_jobs',
    help: 'Jobs not yet started per queue and state (waiting, prioritized, delayed), read from Redis at scrape time',
    labelNames: ['queue', 'state'] as const,
    registers: [this.registry],
    collect: () => this.collectBacklogs(),
  });

  readonly queueUp: Gauge<'queue'> = new Gauge({
    name: 'twindex_worker_queue_up',
    help: "1 when the queue's backlog was read at this scrape, 0 when Redis did not answer in time",
    labelNames: ['queue'] as const,
    registers: [this.registry],
    collect: () => this.collectBacklogs(),
  });

  /** Registers a queue whose backlog a scrape reports under `queue="<name>"`. */
  trackBacklog(queue: string, read: BacklogReader): void {
    this.backlogs.set(queue, read);
  }

  private backlogsCollecting: Promise<void> | undefined;

  /** Both gauges share one read per scrape (the registry collects metrics concurrently). */
  private collectBacklogs(): Promise<void> {
    this.backlogsCollecting ??= this.readBacklogs().finally(() => (this.backlogsCollecting = undefined));
    return this.backlogsCollecting;
  }

  /** A queue that does not answer loses its series rather than showing a stale depth (an autoscaler holds still). */
  private async readBacklogs(): Promise<void> {
    const reads = [...this.backlogs].map(async ([queue, read]) => {
      const counts = await read().catch(() => undefined);
      this.queueUp.set({ queue }, counts ? 1 : 0);
      for (const state of BACKLOG_STATES) {
        if (counts) this.queueJobs.set({ queue, state }, counts[state] ?? 0);
        else this.queueJobs.remove({ queue, state });
      }
    });
    await Promise.all(reads);
  }

  constructor() {
    // Every series exists from the start, so rate() and alerts see a 0 rather than nothing.
    for (const change of ['upserted', 'deleted']) this.syncIdentities.inc({ change }, 0);
    for (const outcome of ['merged', 'skipped']) this.importRows.inc({ outcome }, 0);
    for (const outcome of ['sent', 'failed', 'retried', 'suspended'])
      this.notifyDeliveries.inc({ outcome }, 0);
    for (const stage of ['events', 'messages']) this.notifyOutbox.set({ stage }, 0);
    registerBuildInfo(this.registry);
    collectDefaultMetrics({ register: this.registry, prefix: 'twindex_' });
  }
}
