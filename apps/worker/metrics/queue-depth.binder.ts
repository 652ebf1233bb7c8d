import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { QUEUES } from '../../../libs/queue/job-catalogue.js';
import { timeBoxedCounts } from '../../../libs/queue/time-boxed-counts.js';
import { BACKLOG_STATES, WorkerMetrics } from './worker-metrics.js';

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
      this.metrics.trackBacklog(name, timeBoxedCounts(queue, BACKLOG_STATES));
    }
  }
}
