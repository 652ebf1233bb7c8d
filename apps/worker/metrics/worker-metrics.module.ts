import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { JobMetricsBinder } from './job-metrics.binder.js';
import { WorkerMetricsServer } from './metrics-server.js';
import { QueueDepthBinder } from './queue-depth.binder.js';
import { WorkerMetrics } from './worker-metrics.js';

@Module({
  imports: [DiscoveryModule],
  providers: [
    { provide: WorkerMetrics, useFactory: () => new WorkerMetrics() },
    JobMetricsBinder,
    QueueDepthBinder,
    WorkerMetricsServer,
  ],
  exports: [WorkerMetrics, WorkerMetricsServer],
})
export class WorkerMetricsModule {}
