/**
 * API_PROCESSES=2: the built application (apps/api/main.ts through the swc loader) forks two API processes on one
 * port. Each keeps its own identity cache; a write served by one is reflected by the other within the coherence
 * bound. Which process served a request is read from its log line (pid), found by the X-Request-Id we send.
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { dropDatabase } from '../libs/store/database-setup.js';
import { freePort, spawnEntry } from './support/api-process.js';
import { isolatedConfig, OPERATOR_KEY, removeRedisKeys } from './support/test-env.js';
import { COHERENCE_BOUND_MS, sleep } from './support/two-instances.js';

const NAME = 'RFID#multi-process';

describe('API_PROCESSES=2 (one port, a cache per process)', () => {
  const config = isolatedConfig();
  let port: number;
  let child: ChildProcess;
  let output = '';

  /** One request on a fresh connection (cluster hands new connections to the processes in turn). */
  const call = (method: string, path: string, headers: Record<string, string>, body?: unknown) =>
    new Promise<{ status: number; body: any }>((resolve, reject) => {
      const text = body === undefined ? undefined : JSON.stringify(body);
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          method,
          path,
          agent: false,
          headers: text === undefined ? headers : { ...headers, 'content-type': 'application/json' },
        },
        (res) => {
          let data = '';
          res.on('data', (d: Buffer) => (data += d.toString()));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: data ? JSON.parse(data) : undefined }),
          );
        },
      );
      req.on('error', reject);
      req.end(text);
    });

  /** The pid in the log line of the request we sent with this X-Request-Id (lines are flushed within a second). */
  async function servedBy(trace: string): Promise<number> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const line = output.split('\n').find((l) => l.includes(`"trace":"${trace}"`));
      if (line) return (JSON.parse(line) as { pid: number }).pid;
      if (Date.now() > deadline) throw new Error(`no log line for ${trace}`);
      await sleep(50);
    }
  }

  beforeAll(async () => {
    port = await freePort();
    child = spawnEntry('apps/api/main.ts', {
      DATABASE_URL: config.DATABASE_URL,
      DATABASE_POOL_SIZE: '3',
      REDIS_URL: config.REDIS_URL,
      REDIS_PREFIX: config.REDIS_PREFIX,
      TWINDEX_OPERATOR_KEY: OPERATOR_KEY,
      HOST: '127.0.0.1',
      PORT: String(port),
      API_PROCESSES: '2',
      LOG_LEVEL: 'info',
    });
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const deadline = Date.now() + 240_000; // two processes transpiling the sources on a busy machine
    while ((output.match(/"ready: API on/g) ?? []).length < 2) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`API did not start:\n${output}`);
      await sleep(100);
    }
  }, 300_000);

  afterAll(async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await dropDatabase(config.DATABASE_URL);
    await removeRedisKeys(config);
  }, 60_000);

  it('reflects a write served by one process on the other within the coherence bound', async () => {
    const created = await call('POST', '/accounts', { authorization: OPERATOR_KEY }, { name: 'multi' });
    expect(created.status).toBe(201);
    const auth = { authorization: created.body.secret as string };
    const twin = await call('POST', '/twins', auth, {});
    expect(twin.status).toBe(201);
    const attach = await call('POST', `/twins/${twin.body.uuid}/identities`, auth, {
      identities: { [NAME]: {} },
    });
    expect(attach.status).toBe(201);

    // Both processes serve the name (and so cache it) before the write.
    const warmed = new Set<number>();
    for (let i = 0; warmed.size < 2; i++) {
      if (i > 40) throw new Error('the second process never served a request');
      const trace = randomUUID();
      const res = await call('GET', `/resolve/${encodeURIComponent(NAME)}`, {
        ...auth,
        'x-request-id': trace,
      });
      expect(res.body).toEqual({ twins: [twin.body.uuid] });
      warmed.add(await servedBy(trace));
    }

    const removed = await call(
      'DELETE',
      `/twins/${twin.body.uuid}/identities/${encodeURIComponent(NAME)}`,
      auth,
    );
    expect(removed.status).toBe(200);
    const acked = Date.now();

    // Every process answers without the identity; anything else is allowed only within the bound.
    const converged = new Set<number>();
    for (let i = 0; converged.size < 2; i++) {
      if (i > 200) throw new Error('the processes did not both converge');
      const trace = randomUUID();
      const sent = Date.now();
      const res = await call('GET', `/resolve/${encodeURIComponent(NAME)}`, {
        ...auth,
        'x-request-id': trace,
      });
      const pid = await servedBy(trace);
      if (res.body.twins.length === 0) converged.add(pid);
      else expect(sent - acked).toBeLessThan(COHERENCE_BOUND_MS);
    }
    expect([...converged].sort()).toEqual([...warmed].sort());
  }, 120_000);
});
