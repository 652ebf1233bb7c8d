import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { loadConfigOrExit } from '../../libs/config/index.js';
import { workerReadyLine } from '../../libs/observability/ready-line.js';
import { exitOnStartupFailure, installProcessLogger } from '../../libs/observability/startup.js';
import { prepareDatabase } from '../../libs/store/prepare-database.js';
import { WorkerMetricsServer } from './metrics/metrics-server.js';
import { WorkerModule } from './worker.module.js';

/**
 * SIGTERM must end the process with 0 within 30 s (docs/operations.md "Stopping"); jobs still running by then are
 * recovered as stalled.
 */
const SHUTDOWN_DEADLINE_MS = 25_000;

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const { pino, nest } = installProcessLogger('worker', config);
  const logger = new Logger('worker');
  let app;
  try {
    await prepareDatabase(config, logger);
    app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config), {
      logger: config.LOG_LEVEL === 'silent' ? false : nest,
    });
    await app.init();
  } catch (e) {
    // e.g. WORKER_METRICS_PORT in use, bad database credentials: one line, exit 1.
    exitOnStartupFailure(pino, 'worker', e);
  }
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
  logger.log(workerReadyLine(config.HOST, app.get(WorkerMetricsServer).port));
}

void main();
