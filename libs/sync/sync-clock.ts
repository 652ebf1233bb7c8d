import type { Queryable } from '../store/db.js';

/**
 * Seconds since the epoch by the database's clock. Every time that orders sync work (when a twin was queued for a
 * run, when a fetch started, when a run started) comes from this one clock, so worker hosts whose clocks drift
 * cannot leave a run waiting for a twin that was in fact synced.
 */
export async function databaseNow(db: Queryable): Promise<number> {
  const rows = await db.query<{ now: number }>(`SELECT extract(epoch FROM clock_timestamp())::float8 AS now`);
  return rows[0].now;
}
