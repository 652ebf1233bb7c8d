import cluster from 'node:cluster';
import { Logger } from '@nestjs/common';
import { loadConfigOrExit } from '../../libs/config/index.js';
import { prepareDatabase } from '../../scripts/prepare-database.js';
import { createApiApp } from './api-app.js';
import { processCount, runPrimary } from './api-processes.js';

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
}

void main();
