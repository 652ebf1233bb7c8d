import { Logger } from '@nestjs/common';
import { loadConfigOrExit } from '../libs/config/index.js';
import { ensureDatabase, runMigrations } from '../libs/store/database-setup.js';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  await ensureDatabase(config.DATABASE_URL);
  const applied = await runMigrations(config.DATABASE_URL);
  new Logger('migrate').log(applied.length ? `applied: ${applied.join(', ')}` : 'nothing to apply');
}

main().catch((e: unknown) => {
  process.stderr.write(`migration failed: ${(e as Error).message}\n`);
  process.exit(1);
});
