import 'reflect-metadata';
import { ConsoleLogger, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { loadConfigOrExit } from '../../libs/config/index.js';
import { prepareDatabase } from '../../scripts/prepare-database.js';
import { WorkerModule } from './worker.module.js';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = new Logger('worker');
  await prepareDatabase(config, logger);
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config), {
    logger: new ConsoleLogger({ json: true }),
  });
  // SIGTERM: Nest closes the BullMQ workers, which stop taking jobs and wait for the ones in hand.
  app.enableShutdownHooks();
  await app.init();
  logger.log('worker started');
}

void main();
