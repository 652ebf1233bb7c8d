import { type DynamicModule, Module } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import { CONFIG, type TwindexConfig } from '../config/index.js';
import { bullConnection } from './bull-connection.js';
import { QUEUES } from './job-catalogue.js';
import { SyncProducer } from './sync-producer.js';

/**
 * The sync queues as producers, with their connection and REDIS_PREFIX given here, so the module works in the API
 * (which has no BullModule.forRoot) and in the worker alike.
 */
@Module({})
export class SyncQueueModule {
  static forRoot(role: 'worker' | 'api'): DynamicModule {
    const queueOptions = (config: TwindexConfig) => ({
      connection: bullConnection(config, role),
      prefix: config.REDIS_PREFIX,
    });
    return {
      module: SyncQueueModule,
      imports: [
        BullModule.registerQueueAsync(
          { name: QUEUES.sync, inject: [CONFIG], useFactory: queueOptions },
          { name: QUEUES.syncTwins, inject: [CONFIG], useFactory: queueOptions },
        ),
      ],
      providers: [SyncProducer],
      exports: [SyncProducer, BullModule],
    };
  }
}
