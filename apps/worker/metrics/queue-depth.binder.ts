import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { QUEUES } from '../../../libs/queue/job-catalogue.js';
import { BACKLOG_STATES, type BacklogCounts, WorkerMetrics } from './worker-metrics.js';

/** A scrape waits at most this long for Redis; a queue that has not answered by then is reported down. */
export const BACKLOG_READ_TIMEOUT_MS = 500;

/**
 * Reads a queue's backlog (waiting, prioritized, delayed), giving up after `timeoutMs`. While a read is still
 * pending (Redis down: ioredis keeps the command queued) later scrapes join it rather than piling up new ones.
 */
export function timeBoxedBacklog(
  queue: Pick<Queue, 'getJobCounts'>,
  timeoutMs = BACKLOG_READ_TIMEOUT_MS,
): () => Promise<BacklogCounts | undefined> {
  let pending: Promise<BacklogCounts | undefined> | undefined;
  return () => {
    pending ??= queue
      .getJobCounts(...BACKLOG_STATES)
      .then((counts) => counts as BacklogCounts)
      .catch(() => undefined)
      .finally(() => (pending = undefined));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(resolve, timeoutMs, undefined);
      timer.unref();
    });
    return Promise.race([pending, timeout]).finally(() => clearTimeout(timer));
  };
}

/**
 * Connects the queues this worker already holds (registered by its feature modules, so no connection of its own)
 * to its /metrics: the backlog an autoscaler reads (docs/kubernetes.md "Autoscaling").
 */
@Injectable()
export class QueueDepthBinder implements OnModuleInit {
  constructor(
    private readonly metrics: WorkerMetrics,
    private readonly moduleRef: ModuleRef,
  ) {}

  onModuleInit(): void {
    for (const name of Object.values(QUEUES)) {
      let queue: Queue;
      try {
        queue = this.moduleRef.get<Queue>(getQueueToken(name), { strict: false });
      } catch {
        continue; // not registered in this context
      }
      this.metrics.trackBacklog(name, timeBoxedBacklog(queue));
    }
  }
}
