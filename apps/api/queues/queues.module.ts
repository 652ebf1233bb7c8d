import { Module } from '@nestjs/common';
import { QueueDashboard } from './queue-dashboard.js';
import { QueueMetricsBinder } from './queue-metrics.binder.js';

/** Queue depths on /metrics and the Bull Board dashboard, over the queues the API already holds. */
@Module({ providers: [QueueMetricsBinder, QueueDashboard] })
export class QueuesModule {}
