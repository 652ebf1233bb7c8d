import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import type { LoggerService } from '@nestjs/common';

/** API_PROCESSES: a number, or `auto` for one per core. */
export function processCount(setting: number | 'auto'): number {
  return setting === 'auto' ? availableParallelism() : setting;
}

/**
 * The primary of a multi-process API (API_PROCESSES > 1): forks that many API processes, which listen on the same
 * port (node:cluster hands each new connection to one of them in turn), replaces one that dies unexpectedly, and
 * passes SIGTERM/SIGINT on for a graceful stop. It serves nothing itself. Every process has its own caches, kept
 * coherent by its own change-feed connection, exactly like separate instances.
 */
export function runPrimary(count: number, logger: LoggerService): void {
  let stopping = false;
  const fork = () => cluster.fork({ MIGRATIONS_RUN: 'false' });
  for (let i = 0; i < count; i++) fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    logger.warn(`API process ${worker.process.pid} exited (${signal ?? code}); starting another`);
    setTimeout(fork, 1000).unref();
  });
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    const workers = Object.values(cluster.workers ?? {});
    if (workers.length === 0) process.exit(0);
    for (const w of workers) w?.process.kill(signal);
    // A process that does not finish its graceful stop in time is not waited for.
    setTimeout(() => process.exit(1), 30_000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
