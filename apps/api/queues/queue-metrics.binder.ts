import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { Queue } from 'bullmq';
import { ApiMetrics, QUEUE_STATES, type QueueState } from '../metrics/index.js';
import { knownQueues } from './known-queues.js';

/** A scrape waits at most this long for Redis; a queue that has not answered by then is skipped. */
export const QUEUE_COUNTS_TIMEOUT_MS = 500;

/**
 * Reads a queue's job counts, giving up after `timeoutMs`. While a read is still pending (Redis down: BullMQ keeps
 * the command queued), later scrapes do not pile up new ones but are skipped too.
 */
export function timeBoxedCounts(
  queue: Pick<Queue, 'getJobCounts'>,
  timeoutMs = QUEUE_COUNTS_TIMEOUT_MS,
): () => Promise<Record<QueueState, number> | undefined> {
  let pending: Promise<Record<QueueState, number> | undefined> | undefined;
  return () => {
    pending ??= queue
      .getJobCounts(...QUEUE_STATES)
      .then((counts) => counts as Record<QueueState, number>)
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

/** Connects the API's BullMQ queues to /metrics: depths per state, read at scrape time. */
@Injectable()
export class QueueMetricsBinder implements OnModuleInit {
  constructor(
    private readonly metrics: ApiMetrics,
    private readonly moduleRef: ModuleRef,
  ) {}

  onModuleInit(): void {
    for (const queue of knownQueues(this.moduleRef)) {
      this.metrics.trackQueue(queue.name, timeBoxedCounts(queue));
    }
  }
}
