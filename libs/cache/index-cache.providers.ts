import type { Provider } from '@nestjs/common';
import { CONFIG, type TwindexConfig } from '../config/index.js';
import { Db } from '../store/db.js';
import {
  IdentityIndex,
  PostgresIdentityIndex,
  PostgresTwinFactsIndex,
  TwinFactsIndex,
} from '../store/identity-index.js';
import { CachedIdentityIndex } from './cached-identity-index.js';
import { CachedTwinFactsIndex } from './cached-twin-facts-index.js';
import { ChangeFeed } from './change-feed.js';

/**
 * Binds the index interfaces to their cached implementations. The twin cache gets a tenth of the identity
 * cache's bounds: far fewer twins are read (details=true and twin-reading rules) than names are resolved.
 */
export const INDEX_CACHE_PROVIDERS: Provider[] = [
  {
    provide: IdentityIndex,
    inject: [Db, ChangeFeed, CONFIG],
    useFactory: (db: Db, feed: ChangeFeed, c: TwindexConfig) =>
      new CachedIdentityIndex(new PostgresIdentityIndex(db), feed, {
        maxEntries: c.CACHE_MAX_ENTRIES,
        maxBytes: c.CACHE_MAX_BYTES,
        ttlMs: c.CACHE_TTL_MS,
      }),
  },
  {
    provide: TwinFactsIndex,
    inject: [Db, ChangeFeed, CONFIG],
    useFactory: (db: Db, feed: ChangeFeed, c: TwindexConfig) =>
      new CachedTwinFactsIndex(new PostgresTwinFactsIndex(db), feed, {
        maxEntries: Math.max(1, Math.floor(c.CACHE_MAX_ENTRIES / 10)),
        maxBytes: Math.max(1, Math.floor(c.CACHE_MAX_BYTES / 10)),
        ttlMs: c.CACHE_TTL_MS,
      }),
  },
];
