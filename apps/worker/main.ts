import 'reflect-metadata';
import { ConsoleLogger, type LogLevel, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { loadConfigOrExit, type TwindexConfig } from '../../libs/config/index.js';
import { prepareDatabase } from '../../libs/store/prepare-database.js';
import { WorkerModule } from './worker.module.js';

/** SIGTERM must end the process with 0 within 30 s (sync.md); jobs still running by then are recovered as stalled. */
const SHUTDOWN_DEADLINE_MS = 25_000;

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = new Logger('worker');
  await prepareDatabase(config, logger);
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config), {
    logger: new ConsoleLogger({ json: true, logLevels: nestLogLevels(config.LOG_LEVEL) }),
  });
  await app.init();
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal}: taking no new jobs, finishing the ones in hand`);
    setTimeout(() => {
      logger.warn('shutdown deadline reached; unfinished jobs will be picked up again as stalled');
      process.exit(0);
    }, SHUTDOWN_DEADLINE_MS).unref();
    // Nest's own signal hooks re-raise the signal after closing (exit code 143); closing here exits with 0.
    app.close().then(
      () => process.exit(0),
      (e: unknown) => {
        logger.error(`shutdown failed: ${(e as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  logger.log('worker started');
}

function nestLogLevels(level: TwindexConfig['LOG_LEVEL']): LogLevel[] {
  const order: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];
  const upTo = { fatal: 0, error: 1, warn: 2, info: 3, debug: 4, trace: 5, silent: -1 } as const;
  return order.slice(0, upTo[level] + 1);
}

void main();
