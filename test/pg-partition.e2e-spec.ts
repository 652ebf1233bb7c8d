import { ChangeFeed } from '../libs/cache/change-feed.js';
import { dropDatabase } from '../libs/store/database-setup.js';
import { type TestAccount, TestApi } from './support/test-app.js';
import { isolatedConfig, removeRedisKeys } from './support/test-env.js';
import { TcpProxy } from './support/tcp-proxy.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const CONNECT_TIMEOUT_MS = 1000;
const STATEMENT_TIMEOUT_MS = 1000;
/** Waiting for a pooled connection + the statement + the client's grace past the server's own timeout. */
const DEADLINE_MS = CONNECT_TIMEOUT_MS + STATEMENT_TIMEOUT_MS + 500;
/** What a busy shared machine may add on top of the deadline before we call it a hang. */
const SLACK_MS = 2000;

interface Timed {
  status: number;
  ms: number;
  body: any;
  retryAfter: string | null;
}

/** A request that gives up (status 0) instead of waiting forever, so a hang fails an assertion, not the suite. */
async function timed(
  api: TestApi,
  method: string,
  path: string,
  secret?: string,
  body?: unknown,
): Promise<Timed> {
  const started = performance.now();
  try {
    const res = await fetch(new URL(path, api.baseUrl), {
      method,
      headers: {
        ...(secret ? { authorization: secret } : {}),
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(20_000),
    });
    const text = await res.text();
    return {
      status: res.status,
      ms: performance.now() - started,
      body: text ? JSON.parse(text) : undefined,
      retryAfter: res.headers.get('retry-after'),
    };
  } catch {
    return { status: 0, ms: performance.now() - started, body: undefined, retryAfter: null };
  }
}

/**
 * issue 11: a silent network partition to PostgreSQL (connections stay open, nothing comes back, no error ever
 * arrives) must turn into 503 database_unavailable with Retry-After within the configured deadline, /health/ready
 * must answer within a second whatever the database does, and everything recovers once the partition ends.
 */
describe('PostgreSQL behind a silent partition', () => {
  const proxy = new TcpProxy('127.0.0.1', 5432);
  let api: TestApi;
  let admin: TestAccount;
  let directUrl: string;

  beforeAll(async () => {
    const port = await proxy.start();
    const config = isolatedConfig({
      DATABASE_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
      DATABASE_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
    });
    directUrl = config.DATABASE_URL;
    const viaProxy = new URL(config.DATABASE_URL);
    viaProxy.port = String(port);
    api = await TestApi.start({ ...config, DATABASE_URL: viaProxy.toString() });
    admin = await api.createAccount('partition');
  });

  afterAll(async () => {
    proxy.heal();
    await api.stop({ dropDatabase: false });
    await removeRedisKeys(api.config);
    await proxy.stop();
    await dropDatabase(directUrl);
  });

  it('answers 503 within the deadline, keeps the ready check fast, and recovers', async () => {
    const twin = await timed(api, 'POST', '/twins', admin.secret, {});
    expect(twin.status).toBe(201);
    expect((await timed(api, 'GET', '/health/ready')).status).toBe(200);

    proxy.blackhole();
    // The change feed's heartbeat stops coming back: caches stop being trusted, so every answer needs PostgreSQL.
    const feed = api.app.get(ChangeFeed);
    for (let i = 0; i < 100 && feed.isConnected; i++) await sleep(100);
    expect(feed.isConnected).toBe(false);

    // More requests at once than the pool has connections (5): some wait for a connection, some for an answer.
    const during = await Promise.all([
      ...Array.from({ length: 4 }, () => timed(api, 'POST', '/twins', admin.secret, {})),
      ...Array.from({ length: 4 }, () => timed(api, 'GET', `/twins/${twin.body.uuid}`, admin.secret)),
      ...Array.from({ length: 4 }, () => timed(api, 'GET', '/resolve/RFID%23nobody', admin.secret)),
    ]);
    for (const r of during) {
      expect({ status: r.status, subcode: r.body?.subcode, retryAfter: r.retryAfter }).toEqual({
        status: 503,
        subcode: 'database_unavailable',
        retryAfter: '1',
      });
    }
    const slowest = Math.max(...during.map((r) => r.ms));
    console.info(`partition: slowest 503 after ${Math.round(slowest)} ms (deadline ${DEADLINE_MS} ms)`);
    expect(slowest).toBeLessThan(DEADLINE_MS + SLACK_MS);

    // Readiness answers within a second, even while requests are stuck waiting on the database.
    const stuck = timed(api, 'GET', `/twins/${twin.body.uuid}`, admin.secret);
    const readies: Timed[] = [];
    for (let i = 0; i < 3; i++) readies.push(await timed(api, 'GET', '/health/ready'));
    for (const r of readies) expect(r.status).toBe(503);
    const readyMs = Math.max(...readies.map((r) => r.ms));
    console.info(`partition: /health/ready answered 503 in at most ${Math.round(readyMs)} ms`);
    expect(readyMs).toBeLessThan(1000);
    expect((await timed(api, 'GET', '/health/live')).status).toBe(200);
    expect((await stuck).status).toBe(503);

    proxy.heal();
    let back = await timed(api, 'POST', '/twins', admin.secret, {});
    for (let i = 0; i < 100 && back.status !== 201; i++) {
      await sleep(200);
      back = await timed(api, 'POST', '/twins', admin.secret, {});
    }
    expect(back.status).toBe(201);
    for (let i = 0; i < 100 && !feed.isConnected; i++) await sleep(100);
    expect(feed.isConnected).toBe(true);
    let ready = await timed(api, 'GET', '/health/ready');
    for (let i = 0; i < 50 && ready.status !== 200; i++) {
      await sleep(200);
      ready = await timed(api, 'GET', '/health/ready');
    }
    expect(ready.status).toBe(200);
    expect((await timed(api, 'GET', `/twins/${back.body.uuid}`, admin.secret)).status).toBe(200);
  }, 120_000);
});
