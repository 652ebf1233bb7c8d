import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { Redis } from 'ioredis';
import { REDIS } from '../../libs/queue/redis.module.js';

/** BullMQ loses jobs if Redis evicts keys; say so loudly at start (docs/sync.md "When things fail"). */
@Injectable()
export class RedisPolicyCheck implements OnApplicationBootstrap {
  private readonly logger = new Logger('worker');

  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async onApplicationBootstrap(): Promise<void> {
    try {
      const reply = (await this.redis.call('CONFIG', 'GET', 'maxmemory-policy')) as string[];
      const policy = reply?.[1];
      if (policy && policy !== 'noeviction') {
        this.logger.warn(
          `Redis maxmemory-policy is '${policy}'; BullMQ needs 'noeviction' or jobs can vanish`,
        );
      }
    } catch {
      // CONFIG may be disabled on managed Redis; nothing to check then.
    }
  }
}
