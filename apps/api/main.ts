import { Logger } from '@nestjs/common';
import { loadConfigOrExit } from '../../libs/config/index.js';
import { prepareDatabase } from '../../libs/store/prepare-database.js';
import { createApiApp } from './api-app.js';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = new Logger('api');
  await prepareDatabase(config, logger);
  const app = await createApiApp(config);
  app.enableShutdownHooks();
  await app.listen({ port: config.PORT, host: config.HOST });
  logger.log(`listening on ${config.HOST}:${config.PORT}`);
}

void main();
