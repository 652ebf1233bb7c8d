/**
 * A Redis server of the test's own (redis-server on a free port), so it can be restarted: by default with its
 * append-only file on (a restart keeps the data); `persistent: false` forgets everything on restart.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class PrivateRedis {
  private child: ChildProcess | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), 'twindex-redis-'));

  private constructor(
    readonly port: number,
    private readonly persistent: boolean,
  ) {}

  static async start(options: { persistent?: boolean } = {}): Promise<PrivateRedis> {
    const port = await freePort();
    const redis = new PrivateRedis(port, options.persistent ?? true);
    await redis.up();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts (again) on the same port and directory: what was written before a clean stop is still there. */
  async up(): Promise<void> {
    this.child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--dir',
        this.dir,
        '--appendonly',
        this.persistent ? 'yes' : 'no',
        '--appendfsync',
        'always',
        '--save',
        '',
        '--maxmemory-policy',
        'noeviction',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    this.child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    const deadline = Date.now() + 10_000;
    while (!out.includes('Ready to accept connections')) {
      if (Date.now() > deadline || this.child.exitCode !== null)
        throw new Error(`redis-server did not start:\n${out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** A clean shutdown (SIGTERM: Redis flushes its append-only file and exits). */
  async down(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }

  async stop(): Promise<void> {
    await this.down();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function freePort(): Promise<number> {
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
