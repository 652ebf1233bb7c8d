import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Redis } from 'ioredis';
import { Db } from '../../../libs/store/db.js';
import { pendingMigrationCount } from '../../../libs/store/database-setup.js';
import { REDIS } from '../../../libs/queue/redis.module.js';
import { Public } from '../http/action.decorator.js';
import { isDraining } from './draining.js';

/** A dependency's state as /health/ready reports it; `reason` says why it is down, never a stack or a secret. */
export interface Check {
  status: 'up' | 'down';
  reason?: string;
  [detail: string]: unknown;
}

export interface Readiness {
  status: 'ok' | 'error';
  checks: { postgres: Check; redis: Check; migrations: Check };
}

/**
 * A probe must answer within a second whatever the database or Redis do (a partition would otherwise hold it for
 * the full query deadline): each check gives up after this long, and the checks run side by side.
 */
const CHECK_TIMEOUT_MS = 500;

@Controller('health')
export class HealthController {
  constructor(
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

  /** 200 when every dependency is up, else 503 — both with the same body naming each dependency and its state. */
  @Get('ready')
  @Public()
  @ApiOperation({
    operationId: 'health_ready',
    summary: 'PostgreSQL, Redis and migrations, each with its state',
  })
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<Readiness> {
    const [postgres, redis] = await Promise.all([
      check(async () => {
        const pending = await pendingMigrationCount((sql) => this.db.pool.query(sql));
        return { pending };
      }),
      check(() => this.redis.ping()),
    ]);
    const pending = postgres.ok ? postgres.value.pending : undefined;
    const checks: Readiness['checks'] = {
      postgres: postgres.ok ? { status: 'up' } : { status: 'down', reason: postgres.reason },
      redis: redis.ok ? { status: 'up' } : { status: 'down', reason: redis.reason },
      migrations:
        pending === undefined
          ? { status: 'down', reason: 'unknown while PostgreSQL is down' }
          : pending === 0
            ? { status: 'up' }
            : { status: 'down', reason: 'migrations pending', pending },
    };
    // A stopping process is unready whatever its dependencies say: it is leaving the endpoint lists.
    const ok = !isDraining() && Object.values(checks).every((c) => c.status === 'up');
    void reply.status(ok ? 200 : 503);
    if (!ok) void reply.header('retry-after', '5');
    return { status: ok ? 'ok' : 'error', checks };
  }
}

type Outcome<T> = { ok: true; value: T } | { ok: false; reason: string };

async function check<T>(probe: () => Promise<T>): Promise<Outcome<T>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
  });
  try {
    return { ok: true, value: await Promise.race([probe(), timeout]) };
  } catch (e) {
    return { ok: false, reason: reasonOf(e) };
  } finally {
    clearTimeout(timer);
  }
}

/** A short, single-line reason: the error code or the first line of its message (no connection strings). */
function reasonOf(e: unknown): string {
  const err = e as { code?: unknown; message?: unknown };
  if (typeof err?.code === 'string' && /^[A-Z0-9_]+$/.test(err.code)) return `unreachable (${err.code})`;
  const message = typeof err?.message === 'string' ? err.message.split('\n')[0].slice(0, 120) : 'failed';
  return message.replace(/\w+:\/\/\S+/g, '<url>');
}
