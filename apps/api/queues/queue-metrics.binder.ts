import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { timeBoxedCounts } from '../../../libs/queue/time-boxed-counts.js';
import { ApiMetrics, QUEUE_STATES } from '../metrics/index.js';
import { knownQueues } from './known-queues.js';

/** Connects the API's BullMQ queues to /metrics: depths per state, read at scrape time. */
@Injectable()
export class QueueMetricsBinder implements OnModuleInit {
  constructor(
    private readonly metrics: ApiMetrics,
    private readonly moduleRef: ModuleRef,
  ) {}

  onModuleInit(): void {
    for (const queue of knownQueues(this.moduleRef)) {
      this.metrics.trackQueue(queue.name, timeBoxedCounts(queue, QUEUE_STATES));
    }
  }
}
