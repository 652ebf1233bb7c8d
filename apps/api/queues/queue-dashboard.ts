import { Inject, Injectable, Logger } from '@nestjs/common';
import { HttpAdapterHost, ModuleRef } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { AbuseLimiter } from '../../../libs/admission/abuse-limiter.js';
import { CONFIG, type TwindexConfig } from '../../../libs/config/index.js';
import { knownQueues } from './known-queues.js';
import { QUEUE_DASHBOARD_PATH, registerQueueDashboard } from './queue-dashboard-access.js';

export { QUEUE_DASHBOARD_PATH };

/**
 * Bull Board at `/queues` over the API's own Queue instances, for the operator only (docs/operations.md). The gate
 * and the login form are always mounted; the UI itself unless turned off: Bull Board's Fastify adapter loads
 * @fastify/static, which Jest cannot load on Node 20, so it is imported only here, lazily.
 */
@Injectable()
export class QueueDashboard {
  private readonly logger = new Logger('queues');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly moduleRef: ModuleRef,
    @Inject(CONFIG) private readonly config: TwindexConfig,
    private readonly limiter: AbuseLimiter,
  ) {}

  async mount(options: { ui: boolean }): Promise<void> {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    await registerQueueDashboard(
      fastify,
      {
        operatorKey: this.config.TWINDEX_OPERATOR_KEY,
        logger: this.logger,
        onFailure: (request) => this.limiter.recordFailure(request.ip),
      },
      options.ui ? (scope) => this.mountUi(scope) : undefined,
    );
  }

  private async mountUi(scope: FastifyInstance): Promise<void> {
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
    await scope.register(serverAdapter.registerPlugin());
  }
}
