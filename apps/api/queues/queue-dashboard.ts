import { Injectable, Logger } from '@nestjs/common';
import { HttpAdapterHost, ModuleRef } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { AuthService } from '../../../libs/access/auth.service.js';
import { knownQueues } from './known-queues.js';
import { queueDashboardGuard } from './queue-dashboard-access.js';

export const QUEUE_DASHBOARD_PATH = '/queues';

/**
 * Bull Board at `/queues` over the API's own Queue instances, for Admin secrets only (operations.md). Mounted by
 * `createApiApp` unless turned off: Bull Board's Fastify adapter loads @fastify/static, which Jest cannot load on
 * Node 20, so it is imported only here, lazily.
 */
@Injectable()
export class QueueDashboard {
  private readonly logger = new Logger('queues');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly moduleRef: ModuleRef,
    private readonly auth: AuthService,
  ) {}

  async mount(): Promise<void> {
    const [{ createBullBoard }, { BullMQAdapter }, { FastifyAdapter }] = await Promise.all([
      import('@bull-board/api'),
      import('@bull-board/api/bullMQAdapter'),
      import('@bull-board/fastify'),
    ]);
    const serverAdapter = new FastifyAdapter();
    serverAdapter.setBasePath(QUEUE_DASHBOARD_PATH);
    createBullBoard({
      queues: knownQueues(this.moduleRef).map((queue) => new BullMQAdapter(queue)),
      serverAdapter,
    });
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    const guard = queueDashboardGuard(this.auth, this.logger);
    // The hook is added in this plugin's own scope, so it guards the dashboard's routes and nothing else.
    await fastify.register(
      async (scope) => {
        scope.addHook('onRequest', guard);
        await scope.register(serverAdapter.registerPlugin());
      },
      { prefix: QUEUE_DASHBOARD_PATH },
    );
  }
}
