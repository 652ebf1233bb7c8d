import { Module } from '@nestjs/common';
import { IdentityIndex, TwinFactsIndex } from '../store/identity-index.js';
import { INDEX_CACHE_PROVIDERS } from './index-cache.providers.js';

/**
 * The one cached IdentityIndex and TwinFactsIndex of an API process. Nest builds a module once, so every importer
 * reads the same caches, and the writers' reports (CommittedChanges) reach them.
 */
@Module({
  providers: [...INDEX_CACHE_PROVIDERS],
  exports: [IdentityIndex, TwinFactsIndex],
})
export class IndexCacheModule {}
