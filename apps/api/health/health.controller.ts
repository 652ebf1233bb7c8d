import { Controller, Get, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { ApiOperation } from '@nestjs/swagger';
import { Redis } from 'ioredis';
import { Db } from '../../../libs/store/db.js';
import { pendingMigrationCount } from '../../../libs/store/database-setup.js';
import { REDIS } from '../../../libs/queue/redis.module.js';
import { Public } from '../http/action.decorator.js';

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
  @ApiOperation({ operationId: 'health_live', summary: 'The process is up' })
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  @Public()
  @ApiOperation({
    operationId: 'health_ready',
    summary: 'PostgreSQL, Redis and migrations, each with its state',
  })
  @HealthCheck()
  ready() {
    return this.health.check([
      async () => {
        const i = this.indicator.check('postgres');
        try {
          const pending = await pendingMigrationCount((sql) => this.db.pool.query(sql));
          return pending === 0 ? i.up() : i.down({ pending_migrations: pending });
        } catch {
          return i.down({ reason: 'unreachable' });
        }
      },
      async () => {
        const i = this.indicator.check('redis');
        try {
          await this.redis.ping();
          return i.up();
        } catch {
          return i.down({ reason: 'unreachable' });
        }
      },
    ]);
  }
}
