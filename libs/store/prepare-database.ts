import { type LoggerService } from '@nestjs/common';
import { type TwindexConfig } from '../config/index.js';
import { ensureDatabase, runMigrations } from './database-setup.js';

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
      const delay = Math.min(10_000, 250 * 2 ** attempt);
      logger.warn(`PostgreSQL not ready (${(e as Error).message}); retrying in ${delay} ms`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
