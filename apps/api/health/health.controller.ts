import { Controller, Get, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { Redis } from 'ioredis';
import { Db } from '../../../libs/store/db.js';
import { pendingMigrationCount } from '../../../libs/store/database-setup.js';
import { REDIS } from '../../../libs/queue/redis.module.js';
import { Public } from '../http/action.decorator.js';

/**
 * Each readiness check gets this long: the probe itself must answer within a second whatever the database or Redis
 * do (a partition would otherwise hold it for the full query deadline), and both checks run side by side.
 */
const CHECK_DEADLINE_MS = 500;

/** Rejects when `work` has not settled within `ms`; the late result is ignored. */
async function within<T>(ms: number, work: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  const running = work();
  running.catch(() => undefined);
  try {
    return await Promise.race([running, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicator: HealthIndicatorService,
    private readonly db: Db,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  /** The process is up and its event loop answers; dependencies are readiness' business. */
  @Get('live')
  @Public()
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  @Public()
  @HealthCheck()
  ready() {
    return this.health.check([
      async () => {
        const i = this.indicator.check('postgres');
        try {
          const pending = await within(CHECK_DEADLINE_MS, () =>
            pendingMigrationCount((sql) => this.db.pool.query(sql)),
          );
          return pending === 0 ? i.up() : i.down({ pending_migrations: pending });
        } catch {
          return i.down({ reason: 'unreachable' });
        }
      },
      async () => {
        const i = this.indicator.check('redis');
        try {
          await within(CHECK_DEADLINE_MS, () => this.redis.ping());
          return i.up();
        } catch {
          return i.down({ reason: 'unreachable' });
        }
      },
    ]);
  }
}
