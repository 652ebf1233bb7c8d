import cluster from 'node:cluster';
import { Logger } from '@nestjs/common';
import { loadConfigOrExit } from '../../libs/config/index.js';
import { prepareDatabase } from '../../libs/store/prepare-database.js';
import { Db } from '../../libs/store/db.js';
import { createApiApp } from './api-app.js';
import { processCount, runPrimary } from './api-processes.js';

const FIRST_ACCOUNT_HINT =
  'No account yet: create the first with `npx twindex account create <name>` (prints its admin secret once)';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = new Logger('api');
  // Several processes: the primary migrates once, then forks; each forked process serves (MIGRATIONS_RUN=false).
  const processes = processCount(config.API_PROCESSES);
  await prepareDatabase(config, logger);
  if (processes > 1 && cluster.isPrimary) {
    runPrimary(processes, logger);
    logger.log(`started ${processes} API processes on ${config.HOST}:${config.PORT}`);
    return;
  }
  const app = await createApiApp(config);
  app.enableShutdownHooks();
  await app.listen({ port: config.PORT, host: config.HOST });
  logger.log(`listening on ${config.HOST}:${config.PORT}`);
  await hintFirstAccount(app.get(Db), logger);
}

/** A fresh installation has no account and (usually) no operator key: say how to get the first one. */
async function hintFirstAccount(db: Db, logger: Logger): Promise<void> {
  const [row] = await db
    .query<{ any: boolean }>('SELECT EXISTS (SELECT 1 FROM accounts) AS any')
    .catch(() => []);
  if (row && !row.any) logger.log(FIRST_ACCOUNT_HINT);
}

void main();
