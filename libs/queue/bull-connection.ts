import type { ConnectionOptions } from 'bullmq';
import type { TwindexConfig } from '../config/index.js';

/**
 * BullMQ connection options from REDIS_URL (BullMQ opens its own connections; workers need blocking ones).
 * - `worker`: commands wait while Redis restarts (BullMQ requires this of workers), so no job state change is lost;
 * - `api`: a producer in a request fails fast instead, and the request answers 503.
 */
export function bullConnection(
  config: Pick<TwindexConfig, 'REDIS_URL'>,
  role: 'worker' | 'api' = 'worker',
): ConnectionOptions {
  const url = new URL(config.REDIS_URL);
  return {
    host: url.hostname,
    port: Number(url.port || 6379),
    username: url.username || undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : undefined,
    tls: url.protocol === 'rediss:' ? {} : undefined,
    maxRetriesPerRequest: role === 'worker' ? null : 1,
  };
}
