import { ChangeFeed } from '../libs/cache/change-feed.js';
import { dropDatabase } from '../libs/store/database-setup.js';
import { expectErrorShape, type TestAccount, TestApi } from './support/test-app.js';
import { isolatedConfig, removeRedisKeys } from './support/test-env.js';
import { TcpProxy } from './support/tcp-proxy.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * docs/operations.md "When a dependency is down": losing PostgreSQL turns /health/ready red and requests that need it
 * answer 503 with Retry-After; the process does not crash and recovers by itself once the database is back.
 */
describe('PostgreSQL outage', () => {
  const proxy = new TcpProxy('127.0.0.1', 5432);
  let api: TestApi;
  let admin: TestAccount;
  let directUrl: string;

  beforeAll(async () => {
    const port = await proxy.start();
    const config = isolatedConfig();
    directUrl = config.DATABASE_URL;
    const viaProxy = new URL(config.DATABASE_URL);
    viaProxy.port = String(port);
    api = await TestApi.start({ ...config, DATABASE_URL: viaProxy.toString() });
    admin = await api.createAccount('outage');
  });

  afterAll(async () => {
    await proxy.stop().catch(() => undefined);
    await proxy.start().catch(() => undefined);
    await api.stop({ dropDatabase: false });
    await removeRedisKeys(api.config);
    await proxy.stop();
    await dropDatabase(directUrl);
  });

  it('answers 503 with Retry-After while the database is gone, and recovers when it is back', async () => {
    expect((await api.get('/whoami', { secret: admin.secret })).status).toBe(200);

    await proxy.stop();
    // The change feed notices (its heartbeat or the socket error) and the caches stop being trusted.
    const feed = api.app.get(ChangeFeed);
    for (let i = 0; i < 50 && feed.isConnected; i++) await sleep(100);
    expect(feed.isConnected).toBe(false);

    const down = await api.get('/whoami', { secret: admin.secret });
    expectErrorShape(down, 503, 'database_unavailable');
    expect(down.headers.get('retry-after')).toBe('1');
    const resolveDown = await api.get('/resolve/RFID%23x', { secret: admin.secret });
    expectErrorShape(resolveDown, 503, 'database_unavailable');
    const ready = await api.get('/health/ready');
    // The body names each dependency and its state, not a bare "Service Unavailable".
    expect(ready).toMatchObject({
      status: 503,
      body: { status: 'error', checks: { postgres: { status: 'down' }, redis: { status: 'up' } } },
    });
    expect((await api.get('/health/live')).status).toBe(200);

    await proxy.start();
    let back = await api.get('/whoami', { secret: admin.secret });
    for (let i = 0; i < 50 && back.status !== 200; i++) {
      await sleep(100);
      back = await api.get('/whoami', { secret: admin.secret });
    }
    expect(back.status).toBe(200);
    for (let i = 0; i < 100 && !feed.isConnected; i++) await sleep(100);
    expect(feed.isConnected).toBe(true);
    expect((await api.get('/health/ready')).status).toBe(200);
  });
});
