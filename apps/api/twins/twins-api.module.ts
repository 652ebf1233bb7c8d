import { Module } from '@nestjs/common';
import { CacheMetricsBinder } from '../metrics/index.js';
import { AuditLogRepository } from '../../../libs/store/audit-log.repository.js';
import { INDEX_CACHE_PROVIDERS } from '../../../libs/cache/index-cache.providers.js';
import { IdentityIndex, TwinFactsIndex } from '../../../libs/store/identity-index.js';
import { IdentityRepository } from '../../../libs/store/identity.repository.js';
import { TwinRepository } from '../../../libs/store/twin.repository.js';
import { IdentitiesController } from './identities.controller.js';
import { IdentitiesService } from './identities.service.js';
import { LogController } from './log.controller.js';
import { ResolveController } from './resolve.controller.js';
import { ResolveRoute } from './resolve.route.js';
import { ResolveService } from './resolve.service.js';
import { TwinsController } from './twins.controller.js';
import { TwinsService } from './twins.service.js';

/**
 * Twins, identities, resolution and the audit log endpoints. Resolution reads through IdentityIndex and
 * TwinFactsIndex; a cache replaces these two providers without touching ResolveService.
 */
@Module({
  controllers: [TwinsController, IdentitiesController, ResolveController, LogController],
  providers: [
    TwinRepository,
    IdentityRepository,
    AuditLogRepository,
    ...INDEX_CACHE_PROVIDERS,
    TwinsService,
    IdentitiesService,
    ResolveService,
    ResolveRoute,
    CacheMetricsBinder,
  ],
  exports: [IdentityIndex, TwinFactsIndex],
})
export class TwinsApiModule {}
