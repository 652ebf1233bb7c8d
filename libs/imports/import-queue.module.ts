import { Module } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import { CONFIG, type TwindexConfig } from '../config/index.js';
import { bullConnection } from '../queue/bull-connection.js';
import { QUEUES } from '../queue/job-catalogue.js';
import { ImportProducer } from './import-producer.js';

/** The imports queue as a producer for the API (fails fast when Redis is unreachable). */
@Module({
  imports: [
    BullModule.registerQueueAsync({
      name: QUEUES.imports,
      inject: [CONFIG],
      useFactory: (config: TwindexConfig) => ({
        connection: bullConnection(config, 'api'),
        prefix: config.REDIS_PREFIX,
      }),
    }),
  ],
  providers: [ImportProducer],
  exports: [ImportProducer],
})
export class ImportQueueModule {}
