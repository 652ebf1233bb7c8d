/**
 * The API's graceful stop drains (docs/operations.md, "Stopping"): on SIGTERM /health/ready turns 503 at once while
 * the process keeps serving for API_DRAIN_MS, every response closing its connection, and only then does it stop
 * listening and exit 0. The multi-host suite shows what this buys (a rolling restart that fails no request); this
 * is the quick check of the mechanism itself.
 */
import { Agent, request } from 'node:http';
import { dropDatabase } from '../libs/store/database-setup.js';
import { ApiProcess } from './support/api-process.js';
import { isolatedConfig, removeRedisKeys } from './support/test-env.js';

const DRAIN_MS = 4000;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A keep-alive client, as load balancers and SDKs are. */
const agent = new Agent({ keepAlive: true });

/** A GET through node:http, which shows the Connection header fetch hides. */
function get(base: string, path: string): Promise<{ status: number; connection: string | undefined }> {
  return new Promise((resolve) => {
    const req = request(new URL(path, base), { agent, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
    });
    req.on('error', () => resolve({ status: 0, connection: undefined }));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

describe('API drain on SIGTERM', () => {
  const config = isolatedConfig();
  let api: ApiProcess;

  beforeAll(async () => {
    api = await ApiProcess.start(config, { API_DRAIN_MS: String(DRAIN_MS), LOG_LEVEL: 'info' });
  }, 120_000);

  afterAll(async () => {
    agent.destroy();
    await api.stop();
    await dropDatabase(config.DATABASE_URL);
    await removeRedisKeys(config);
  }, 60_000);

  it('turns unready at once, keeps serving with Connection: close for the drain, then exits 0', async () => {
    const before = await get(api.baseUrl, '/health/ready');
    expect(before).toEqual({ status: 200, connection: 'keep-alive' });

    const sent = performance.now();
    api.child.kill('SIGTERM');
    let ready = before;
    while (ready.status === 200 && performance.now() - sent < DRAIN_MS) {
      await sleep(50);
      ready = await get(api.baseUrl, '/health/ready');
    }
    const unreadyAfter = performance.now() - sent;
    // Still inside the drain (a generous margin for a busy machine): unready, yet serving, and closing connections.
    expect(ready).toEqual({ status: 503, connection: 'close' });
    expect(unreadyAfter).toBeLessThan(DRAIN_MS - 1000);
    expect(await get(api.baseUrl, '/health/live')).toEqual({ status: 200, connection: 'close' });
    expect(api.child.exitCode).toBeNull();

    const exit = await api.exited;
    const stoppedAfter = performance.now() - sent;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(stoppedAfter).toBeGreaterThanOrEqual(DRAIN_MS - 100);
    expect(api.log).toMatch(/SIGTERM: stopping; unready and draining for 4000 ms/);
  }, 60_000);
});
