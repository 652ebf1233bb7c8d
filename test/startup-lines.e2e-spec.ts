/**
 * What an operator sees in the log when a process starts and stops: at `info`, one plain ready line that says where
 * the API, its docs and the worker's metrics are, not the framework's route mapping (96 "Mapped {…}" lines), and a
 * line for each step of the API's stop.
 */
import type { ChildProcess } from 'node:child_process';
import { dropDatabase } from '../libs/store/database-setup.js';
import { freePort, spawnEntry } from './support/api-process.js';
import { isolatedConfig, removeRedisKeys } from './support/test-env.js';

interface Run {
  child: ChildProcess;
  lines: () => Array<{ msg?: string; level?: number }>;
  text: () => string;
  exited: Promise<number | null>;
}

const config = isolatedConfig();

function start(entry: string, env: Record<string, string>): Run {
  const child = spawnEntry(entry, {
    DATABASE_URL: config.DATABASE_URL,
    REDIS_URL: config.REDIS_URL,
    REDIS_PREFIX: config.REDIS_PREFIX,
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    ...env,
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const lines = () =>
    out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg?: string; level?: number });
  return { child, lines, text: () => out, exited };
}

async function waitFor(what: () => boolean, ms: number, run: Run): Promise<void> {
  const deadline = Date.now() + ms;
  while (!what()) {
    if (Date.now() > deadline || run.child.exitCode !== null) throw new Error(`timed out:\n${run.text()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const messages = (run: Run) => run.lines().map((l) => l.msg ?? '');

describe('start-up and stop lines at info', () => {
  afterAll(async () => {
    await dropDatabase(config.DATABASE_URL);
    await removeRedisKeys(config);
  }, 60_000);

  it('API: one ready line naming the API and its docs, no route mapping; SIGTERM logs the stop', async () => {
    const port = await freePort();
    const run = start('apps/api/main.ts', { PORT: String(port), TWINDEX_OPERATOR_KEY: 'k'.repeat(40) });
    const ready = `ready: API on http://127.0.0.1:${port}, docs on http://127.0.0.1:${port}/docs`;
    await waitFor(() => messages(run).includes(ready), 120_000, run);
    expect(run.text()).not.toContain('Mapped {');
    // Start-up says what it did in a few lines, not one per module and route.
    expect(run.lines().length).toBeLessThan(15);

    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    const stop = messages(run).slice(messages(run).indexOf(ready) + 1);
    expect(stop).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^SIGTERM: stopping/),
        expect.stringMatching(/^stopped/),
      ]) as string[],
    );
  }, 180_000);

  it('worker: one ready line naming its metrics', async () => {
    const run = start('apps/worker/main.ts', { WORKER_METRICS_PORT: '0' });
    await waitFor(() => messages(run).some((m) => m.startsWith('ready: worker')), 120_000, run);
    expect(messages(run).find((m) => m.startsWith('ready: worker'))).toMatch(
      /^ready: worker taking jobs, metrics on http:\/\/127\.0\.0\.1:\d+\/metrics$/,
    );
    expect(run.lines().length).toBeLessThan(15);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  }, 180_000);
});
