/** The real worker as a child process (apps/worker/main.ts through the swc loader), for kill and shutdown tests. */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TwindexConfig } from '../../libs/config/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export class WorkerProcess {
  private output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  static async start(config: TwindexConfig, env: Record<string, string> = {}): Promise<WorkerProcess> {
    const { NODE_OPTIONS: _ignored, ...inherited } = process.env;
    const child = spawn(
      process.execPath,
      ['--import', './test/upstream-simulator/ts-register.mjs', 'apps/worker/main.ts'],
      {
        cwd: ROOT,
        env: {
          ...inherited,
          NODE_ENV: 'test',
          DATABASE_URL: config.DATABASE_URL,
          DATABASE_POOL_SIZE: '10',
          REDIS_URL: config.REDIS_URL,
          REDIS_PREFIX: config.REDIS_PREFIX,
          TWINDEX_SECRET_KEY: config.TWINDEX_SECRET_KEY ?? '',
          SYNC_ALLOWED_HOSTS: config.SYNC_ALLOWED_HOSTS ?? '',
          MIGRATIONS_RUN: 'false',
          LOG_LEVEL: 'info',
          WORKER_CONCURRENCY: '8',
          WORKER_METRICS_PORT: String(config.WORKER_METRICS_PORT),
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const worker = new WorkerProcess(child);
    const deadline = Date.now() + 30_000;
    while (!worker.output.includes('"ready: worker')) {
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`worker did not start:\n${worker.output}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return worker;
  }

  get log(): string {
    return this.output;
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}
