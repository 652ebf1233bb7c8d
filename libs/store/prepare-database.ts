import { type LoggerService } from '@nestjs/common';
import { type TwindexConfig } from '../config/index.js';
import { ensureDatabase, runMigrations } from './database-setup.js';
import { permanentStartupFailure } from '../observability/startup.js';

/**
 * Creates the database if missing and applies migrations, retrying with backoff while PostgreSQL is unreachable,
 * so the api and the worker can start before the database does (docker compose, reboots).
 */
export async function prepareDatabase(config: TwindexConfig, logger: LoggerService): Promise<void> {
  if (!config.MIGRATIONS_RUN) return;
  for (let attempt = 0; ; attempt++) {
    try {
      await ensureDatabase(config.DATABASE_URL);
      const applied = await runMigrations(config.DATABASE_URL);
      if (applied.length) logger.log(`applied migrations: ${applied.join(', ')}`);
      return;
    } catch (e) {
      // Bad credentials or a malformed URL never heal: the caller stops with one line instead of retrying forever.
      if (permanentStartupFailure(e)) throw e;
      const delay = Math.min(10_000, 250 * 2 ** attempt);
      const reason = ((e as Error)?.message ?? String(e)).split('\n')[0];
      logger.warn(`PostgreSQL not ready (${reason}); retry ${attempt + 1} in ${delay} ms`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
