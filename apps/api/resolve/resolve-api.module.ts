import { Module } from '@nestjs/common';
import { ResolveShare } from '../../../libs/admission/resolve-share.js';
import { IndexCacheModule } from '../../../libs/cache/index-cache.module.js';
import { ExplainController } from './explain.controller.js';
import { ExplainService } from './explain.service.js';
import { ResolveController } from './resolve.controller.js';
import { ResolveRoute } from './resolve.route.js';
import { ResolveService } from './resolve.service.js';

/**
 * Resolution: GET /resolve/{identity} (ResolveRoute: the lean handler api-app.ts serves before Fastify, and the
 * Fastify route behind it) and the batch POST /resolve (the Nest controller), all described by resolve-operation.ts;
 * and POST /resolve/explain (ExplainController), the same answer with the path to it.
 * Every name asked is taken from the account's share of the instance (ResolveShare) before anything is resolved.
 * All read through IdentityIndex and TwinFactsIndex; the cache replaces them without touching ResolveService.
 */
@Module({
  imports: [IndexCacheModule],
  controllers: [ResolveController, ExplainController],
  providers: [ResolveService, ResolveRoute, ExplainService, ResolveShare],
})
export class ResolveApiModule {}
