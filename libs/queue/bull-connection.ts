import type { ConnectionOptions } from 'bullmq';
import type { TwindexConfig } from '../config/index.js';

/** BullMQ connection options from REDIS_URL; BullMQ opens its own connections (workers need blocking ones). */
export function bullConnection(config: Pick<TwindexConfig, 'REDIS_URL'>): ConnectionOptions {
  const url = new URL(config.REDIS_URL);
  return {
    host: url.hostname,
    port: Number(url.port || 6379),
    username: url.username || undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : undefined,
    tls: url.protocol === 'rediss:' ? {} : undefined,
    // Commands wait (rather than fail) while Redis restarts; BullMQ requires this for workers.
    maxRetriesPerRequest: null,
  };
}
