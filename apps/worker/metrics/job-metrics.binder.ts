import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { WorkerHost } from '@nestjs/bullmq';
import type { Job, Worker } from 'bullmq';
import { JOBS, QUEUES } from '../../../libs/queue/job-catalogue.js';
import { WorkerMetrics } from './worker-metrics.js';

/** The job each queue carries, read from the catalogue (each queue carries one kind: catalogue-coverage.ts). */
const JOB_OF_QUEUE = new Map<string, string>(Object.entries(JOBS).map(([name, job]) => [job.queue, name]));

/**
 * Counts every job of every processor of this context from BullMQ's worker events, so processors stay free of
 * metrics code and a new processor is counted without being told. Also reads the sync and import counts from the
 * jobs' return values (the processors already return them for the run reports).
 */
@Injectable()
export class JobMetricsBinder implements OnApplicationBootstrap {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly metrics: WorkerMetrics,
  ) {}

  onApplicationBootstrap(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const host: unknown = wrapper.instance;
      if (host instanceof WorkerHost) this.bind(host.worker as Worker);
    }
  }

  private bind(worker: Worker): void {
    const queue = worker.name;
    worker.on('completed', (job: Job, result: unknown) => {
      this.count(queue, job, 'completed');
      this.countResult(queue, result);
    });
    worker.on('failed', (job: Job | undefined) => {
      if (!job) return;
      // BullMQ sets finishedOn only when the job will not be tried again; otherwise it went back to wait/delayed.
      this.count(queue, job, job.finishedOn ? 'failed' : 'retried');
    });
    // The stalled event carries only the job id; each queue holds one kind of job.
    worker.on('stalled', () => {
      this.metrics.jobs.inc({ queue, name: JOB_OF_QUEUE.get(queue) ?? 'unknown', outcome: 'stalled' });
    });
  }

  private count(queue: string, job: Job, outcome: 'completed' | 'failed' | 'retried'): void {
    const labels = { queue, name: job.name, outcome };
    this.metrics.jobs.inc(labels);
    if (job.processedOn)
      this.metrics.jobDuration.observe(labels, Math.max(0, Date.now() - job.processedOn) / 1000);
  }

  private countResult(queue: string, result: unknown): void {
    if (result === null || typeof result !== 'object') return;
    const r = result as Record<string, unknown>;
    if (queue === QUEUES.syncTwins) {
      if (typeof r.result === 'string') this.metrics.syncTwins.inc({ result: r.result });
      if (typeof r.upserted === 'number') this.metrics.syncIdentities.inc({ change: 'upserted' }, r.upserted);
      if (typeof r.deleted === 'number') this.metrics.syncIdentities.inc({ change: 'deleted' }, r.deleted);
    } else if (queue === QUEUES.imports) {
      if (typeof r.imported === 'number') this.metrics.importRows.inc({ outcome: 'merged' }, r.imported);
      if (typeof r.skipped === 'number') this.metrics.importRows.inc({ outcome: 'skipped' }, r.skipped);
    }
  }
}
