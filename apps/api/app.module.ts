import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { AccessModule } from '../../libs/access/access.module.js';
import { CacheModule } from '../../libs/cache/cache.module.js';
import { ConfigModule, type TwindexConfig } from '../../libs/config/index.js';
import { RedisModule } from '../../libs/queue/redis.module.js';
import { StoreModule } from '../../libs/store/store.module.js';
import { AccessApiModule } from './access/access-api.module.js';
import { HealthController } from './health/health.controller.js';
import { ImportsApiModule } from './imports/imports-api.module.js';
import { AuthGuard } from './http/auth.guard.js';
import { ApiExceptionFilter } from './http/exception.filter.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { QueuesModule } from './queues/queues.module.js';
import { SyncApiModule } from './sync/sync-api.module.js';
import { TwinsApiModule } from './twins/twins-api.module.js';
import { IdentitiesApiModule } from './identities/identities-api.module.js';
import { ResolveApiModule } from './resolve/resolve-api.module.js';
import { AuditApiModule } from './audit/audit-api.module.js';
import { IndexCacheModule } from '../../libs/cache/index-cache.module.js';
import { CacheMetricsBinder } from './metrics/index.js';
import { NotificationsApiModule } from './notifications/notifications-api.module.js';

@Module({})
export class AppModule {
  static forRoot(config: TwindexConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        StoreModule.forRoot('api'),
        RedisModule,
        CacheModule,
        AccessModule,
        MetricsModule,
        AccessApiModule,
        IndexCacheModule,
        ResolveApiModule,
        TwinsApiModule,
        IdentitiesApiModule,
        AuditApiModule,
        SyncApiModule,
        ImportsApiModule,
        NotificationsApiModule,
        QueuesModule,
      ],
      controllers: [HealthController],
      providers: [
        // Binds the one index cache (IndexCacheModule) and the change feed to /metrics.
        CacheMetricsBinder,
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_FILTER, useClass: ApiExceptionFilter },
      ],
    };
  }
}
