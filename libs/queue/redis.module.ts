import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { CONFIG, type TwindexConfig } from '../config/index.js';

export const REDIS = Symbol('REDIS');

/** One shared connection for health checks and producers; BullMQ workers open their own. */
export function createRedis(url: string): Redis {
  const redis = new Redis(url, {
    // BullMQ requires this; it also keeps commands queued (not failed) while Redis restarts.
    maxRetriesPerRequest: null,
    enableOfflineQueue: false,
    retryStrategy: (attempt) => Math.min(5000, 100 * 2 ** attempt),
    lazyConnect: false,
  });
  // Connection errors surface through health and command failures; an unhandled 'error' event would crash.
  redis.on('error', () => undefined);
  return redis;
}

@Global()
@Module({
  providers: [
    { provide: REDIS, inject: [CONFIG], useFactory: (c: TwindexConfig) => createRedis(c.REDIS_URL) },
  ],
  exports: [REDIS],
})
export class RedisModule implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  onApplicationShutdown(): void {
    this.redis.disconnect();
  }
}
