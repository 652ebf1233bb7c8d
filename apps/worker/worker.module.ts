import { type DynamicModule, Module } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import { DiscoveryModule } from '@nestjs/core';
import { ConfigModule, type TwindexConfig } from '../../libs/config/index.js';
import { bullConnection } from '../../libs/queue/bull-connection.js';
import { QueueErrorLogBinder } from '../../libs/queue/queue-error-log.binder.js';
import { RedisModule } from '../../libs/queue/redis.module.js';
import { StoreModule } from '../../libs/store/store.module.js';
import type { SyncOptions } from '../../libs/sync/sync-options.js';
import { JobCatalogueCheck } from './job-catalogue.check.js';
import { ImportsWorkerModule } from './imports/imports-worker.module.js';
import { WorkerMetricsModule } from './metrics/worker-metrics.module.js';
import { NotificationsWorkerModule } from './notifications/notifications-worker.module.js';
import { RedisPolicyCheck } from './redis-policy.check.js';
import { SyncWorkerModule } from './sync/sync-worker.module.js';

export interface WorkerModuleOptions {
  /** Tests and benches tighten upstream timeouts, retries and page sizes. */
  sync?: Partial<SyncOptions>;
}

@Module({})
export class WorkerModule {
  static forRoot(config: TwindexConfig, options: WorkerModuleOptions = {}): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        ConfigModule.forRoot(config),
        StoreModule.forRoot('worker'),
        RedisModule,
        // Workers start once JobCatalogueCheck has found every job of the catalogue its processor.
        BullModule.forRoot({
          prefix: config.REDIS_PREFIX,
          connection: bullConnection(config),
          extraOptions: { manualRegistration: true },
        }),
        // The sync queues are registered by SyncWorkerModule (libs/queue/sync-queue.module.ts), the imports queue by
        // ImportsWorkerModule.
        SyncWorkerModule.forRoot(options.sync),
        ImportsWorkerModule,
        WorkerMetricsModule,
        NotificationsWorkerModule,
        DiscoveryModule,
      ],
      providers: [JobCatalogueCheck, RedisPolicyCheck, QueueErrorLogBinder],
    };
  }
}
