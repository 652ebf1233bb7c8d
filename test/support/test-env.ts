import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { loadConfig, type TwindexConfig } from '../../libs/config/index.js';

const BASE_DB_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const OPERATOR_KEY = 'test-operator-key-0123456789abcdef0123456789';

/** A configuration with its own database and Redis prefix, so suites run in parallel and repeatedly. */
export function isolatedConfig(overrides: Record<string, string> = {}): TwindexConfig {
  const id = `${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const url = new URL(BASE_DB_URL);
  url.pathname = `/twindex_test_${id}`;
  return loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: url.toString(),
    DATABASE_POOL_SIZE: '5',
    REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_PREFIX: `twindex_test_${id}`,
    PORT: '0',
    HOST: '127.0.0.1',
    TWINDEX_OPERATOR_KEY: OPERATOR_KEY,
    TWINDEX_SECRET_KEY: 'test-secret-key-0123456789abcdef0123456789',
    LOG_LEVEL: 'silent',
    // Twin sync retries within seconds (the default rides out a minute's outage, too slow for a test).
    SYNC_TWIN_BACKOFF_MS: '200',
    // The upstream simulators listen on loopback, which the SSRF guard refuses unless the operator allows it.
    SYNC_ALLOWED_HOSTS: '127.0.0.1',
    // Suites make hundreds of deliberate 401s from one address; the throttling suite sets its own low limits.
    RATE_LIMIT_FAILURES_PER_ADDRESS: '1000000',
    RATE_LIMIT_FAILURES_PER_ACCOUNT: '1000000',
    // Suites resolve thousands of names a second from one account; the fair-share suite sets its own share.
    RESOLVE_NAMES_PER_SECOND_PER_ACCOUNT: '0',
    // In-process and spawned workers of parallel suites must not compete for the default port.
    WORKER_METRICS_PORT: '0',
    ...overrides,
  });
}

/**
 * Removes the Redis keys of a test configuration's own prefix (the queues' keys, `meta` included, which closing a
 * queue leaves behind), so a suite leaves nothing on a shared Redis. Only a `twindex_test_` prefix is touched.
 */
export async function removeRedisKeys(
  config: Pick<TwindexConfig, 'REDIS_URL' | 'REDIS_PREFIX'>,
): Promise<void> {
  if (!config.REDIS_PREFIX.startsWith('twindex_test_')) return;
  const redis = new Redis(config.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${config.REDIS_PREFIX}:*`, 'COUNT', 500);
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } catch {
    // Redis down (an outage suite's own doing): nothing can be removed, and nothing is left to fail the suite over.
  } finally {
    redis.disconnect();
  }
}
