import { Injectable, type OnModuleInit } from '@nestjs/common';
import { AuthService } from '../../../libs/access/auth.service.js';
import { CachedIdentityIndex } from '../../../libs/cache/cached-identity-index.js';
import { CachedTwinFactsIndex } from '../../../libs/cache/cached-twin-facts-index.js';
import { ChangeFeed } from '../../../libs/cache/change-feed.js';
import { IdentityIndex, TwinFactsIndex } from '../../../libs/store/identity-index.js';
import { ApiMetrics } from './metrics.registry.js';

/** Connects the caches and the change feed to /metrics; nothing on the request path. */
@Injectable()
export class CacheMetricsBinder implements OnModuleInit {
  constructor(
    private readonly metrics: ApiMetrics,
    private readonly feed: ChangeFeed,
    private readonly auth: AuthService,
    private readonly identities: IdentityIndex,
    private readonly twins: TwinFactsIndex,
  ) {}

  onModuleInit(): void {
    this.feed.observeLag((ms) => this.metrics.invalidationLag.observe(Math.max(0, ms) / 1000));
    this.metrics.channelConnected = () => this.feed.isConnected;
    this.metrics.channelLosses = () => this.feed.losses;
    this.metrics.trackCache('principal', () => this.auth.stats);
    const identities = this.identities;
    if (identities instanceof CachedIdentityIndex)
      this.metrics.trackCache('identity', () => identities.stats);
    const twins = this.twins;
    if (twins instanceof CachedTwinFactsIndex) this.metrics.trackCache('twin', () => twins.stats);
  }
}
