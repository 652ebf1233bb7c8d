import { type DynamicModule, Module } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import { ConfigModule, type TwindexConfig } from '../../libs/config/index.js';
import { QUEUES } from '../../libs/queue/queue-names.js';
import { RedisModule } from '../../libs/queue/redis.module.js';
import { StoreModule } from '../../libs/store/store.module.js';
import { RedisPolicyCheck } from './redis-policy.check.js';

@Module({})
export class WorkerModule {
  static forRoot(config: TwindexConfig): DynamicModule {
    const url = new URL(config.REDIS_URL);
    return {
      module: WorkerModule,
      imports: [
        ConfigModule.forRoot(config),
        StoreModule,
        RedisModule,
        BullModule.forRoot({
          prefix: config.REDIS_PREFIX,
          connection: {
            host: url.hostname,
            port: Number(url.port || 6379),
            username: url.username || undefined,
            password: url.password ? decodeURIComponent(url.password) : undefined,
            db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : undefined,
            tls: url.protocol === 'rediss:' ? {} : undefined,
          },
        }),
        BullModule.registerQueue({ name: QUEUES.sync }, { name: QUEUES.imports }),
      ],
      providers: [RedisPolicyCheck],
    };
  }
}
