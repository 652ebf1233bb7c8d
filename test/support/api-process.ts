/**
 * The real API as a child process (apps/api/main.ts through the swc loader, as the worker tests do), for what Jest's
 * module runtime cannot load: the Bull Board UI behind /queues (@fastify/static needs require(esm)).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { TwindexConfig } from '../../libs/config/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export class ApiProcess {
  private output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    readonly child: ChildProcess,
    readonly baseUrl: string,
  ) {
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Starts the API on a free port of 127.0.0.1 and waits until it answers /health/live. */
  static async start(config: TwindexConfig, env: Record<string, string> = {}): Promise<ApiProcess> {
    const port = await freePort();
    const child = spawnEntry('apps/api/main.ts', {
      DATABASE_URL: config.DATABASE_URL,
      DATABASE_POOL_SIZE: '5',
      REDIS_URL: config.REDIS_URL,
      REDIS_PREFIX: config.REDIS_PREFIX,
      TWINDEX_OPERATOR_KEY: config.TWINDEX_OPERATOR_KEY ?? '',
      TWINDEX_SECRET_KEY: config.TWINDEX_SECRET_KEY ?? '',
      SYNC_ALLOWED_HOSTS: config.SYNC_ALLOWED_HOSTS ?? '',
      RESOLVE_NAMES_PER_SECOND_PER_ACCOUNT: String(config.RESOLVE_NAMES_PER_SECOND_PER_ACCOUNT),
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      ...env,
    });
    const api = new ApiProcess(child, `http://127.0.0.1:${port}`);
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`API did not start:\n${api.output}`);
      }
      const live = await fetch(`${api.baseUrl}/health/live`).catch(() => undefined);
      if (live?.ok) return api;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  get log(): string {
    return this.output;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(timer);
  }
}

/**
 * Runs one of our entry points (apps/api/main.ts, apps/worker/main.ts) as an operator would, through the swc loader,
 * with the test environment plus `env`; stdout and stderr are piped for the caller to read.
 */
export function spawnEntry(entry: string, env: Record<string, string>): ChildProcess {
  const { NODE_OPTIONS: _ignored, ...inherited } = process.env;
  return spawn(process.execPath, ['--import', './test/upstream-simulator/ts-register.mjs', entry], {
    cwd: ROOT,
    env: { ...inherited, NODE_ENV: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** A port of 127.0.0.1 that was free a moment ago (nothing listens on it until someone takes it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
