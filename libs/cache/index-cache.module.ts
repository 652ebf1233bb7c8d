import { Module } from '@nestjs/common';
import { IdentityIndex, TwinFactsIndex } from '../store/identity-index.js';
import { INDEX_CACHE_PROVIDERS } from './index-cache.providers.js';

/**
 * The one cached IdentityIndex and TwinFactsIndex of an API process. Resolution, twins and identities each import
 * this module, and Nest builds a module once, so all three read and invalidate the same caches.
 */
@Module({
  providers: [...INDEX_CACHE_PROVIDERS],
  exports: [IdentityIndex, TwinFactsIndex],
})
export class IndexCacheModule {}
