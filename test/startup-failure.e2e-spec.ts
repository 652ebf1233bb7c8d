/**
 * docs/operations.md "When a dependency is down": start-up fails in one clear line on what cannot heal, and waits for
 * what can. Both processes are started as an operator would (their real entry points), once against a PostgreSQL role
 * that does not exist — a configuration error no retry fixes — and once against a port where nothing listens yet,
 * which may heal.
 */
import type { ChildProcess } from 'node:child_process';
import { freePort, spawnEntry } from './support/api-process.js';
import { isolatedConfig, removeRedisKeys } from './support/test-env.js';

interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** The prefixes the spawned processes were given: a process that got as far as Redis leaves its queues' keys. */
const started: Array<ReturnType<typeof isolatedConfig>> = [];
afterAll(async () => {
  for (const config of started) await removeRedisKeys(config);
});

function start(entry: string, databaseUrl: string): Run {
  const config = isolatedConfig();
  started.push(config);
  const child = spawnEntry(entry, {
    DATABASE_URL: databaseUrl,
    REDIS_URL: config.REDIS_URL,
    REDIS_PREFIX: config.REDIS_PREFIX,
    HOST: '127.0.0.1',
    PORT: '0',
    WORKER_METRICS_PORT: '0',
    LOG_LEVEL: 'info',
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

async function waitFor(what: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!what()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const pgUrl = (user: string, port = 5432) =>
  `postgres://${user}@127.0.0.1:${port}/twindex_startup_never_made`;

describe.each([
  ['api', 'apps/api/main.ts'],
  ['worker', 'apps/worker/main.ts'],
])('%s start-up', (name, entry) => {
  it('stops with one fatal line and exit code 1 when PostgreSQL refuses the role', async () => {
    const run = start(entry, pgUrl('twindex_no_such_role'));
    const code = await run.exited;
    expect(code).toBe(1);
    const lines = run
      .output()
      .split('\n')
      .filter((l) => l.trim() !== '');
    const fatal = lines.filter((l) => l.includes('"level":60'));
    expect(fatal).toHaveLength(1);
    const line = JSON.parse(fatal[0]) as { msg: string };
    expect(line.msg).toMatch(new RegExp(`^${name} cannot start: PostgreSQL refused the role`));
    expect(line.msg).toContain('twindex_no_such_role');
    // No stack trace and no retry loop for what cannot heal.
    expect(run.output()).not.toMatch(/\n\s+at /);
    expect(run.output()).not.toContain('PostgreSQL not ready');
  });

  it('keeps waiting, saying so, while PostgreSQL is not reachable yet', async () => {
    const run = start(entry, pgUrl('postgres', await freePort()));
    try {
      await waitFor(() => (run.output().match(/PostgreSQL not ready/g) ?? []).length >= 2, 90_000);
      expect(run.child.exitCode).toBeNull();
    } finally {
      run.child.kill('SIGKILL');
      await run.exited;
    }
  });
});
