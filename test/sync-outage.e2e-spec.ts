import type { INestApplicationContext } from '@nestjs/common';
import { Client } from 'pg';
import { isolatedConfig } from './support/test-env.js';
import { TestApi, type TestAccount } from './support/test-app.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { PrivateRedis } from './upstream-simulator/private-redis.js';
import { UpstreamSimulator } from './upstream-simulator/simulator.js';
import {
  expectedSnapshot,
  finishedRun,
  indexSnapshot,
  startRun,
  startWorker,
  syncAndWait,
  waitFor,
} from './upstream-simulator/sync-harness.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const TWINS = 300;
const PER_TWIN = 3;

/**
 * issue 11: a sync run always ends. PostgreSQL is cut (for the worker, through a TCP proxy) and Redis — without
 * persistence, so every queued job is lost — restarts in the middle of a run. The run must still end, completed or
 * failed, with counts that tell the truth about the index, and the next run must converge exactly.
 */
describe('sync run across a PostgreSQL cut and a Redis restart that loses the queues', () => {
  const proxy = new TcpProxy('127.0.0.1', 5432);
  let redis: PrivateRedis;
  let api: TestApi;
  let db: Client;
  let worker: INestApplicationContext;
  let sim: UpstreamSimulator;
  let acme: TestAccount;
  let source: string;
  let workerConfig: Parameters<typeof startWorker>[0];

  beforeAll(async () => {
    redis = await PrivateRedis.start({ persistent: false });
    const config = isolatedConfig({
      REDIS_URL: redis.url,
      SYNC_TWIN_BACKOFF_MS: '500',
      SYNC_REAPER_INTERVAL_MS: '1000',
      SYNC_REAPER_GRACE_MS: '3000',
      DATABASE_CONNECT_TIMEOUT_MS: '1000',
      WORKER_DATABASE_STATEMENT_TIMEOUT_MS: '3000',
    });
    api = await TestApi.start(config);
    db = new Client({ connectionString: api.config.DATABASE_URL });
    await db.connect();
    acme = await api.createAccount('acme');
    sim = await UpstreamSimulator.start({ latencyMs: 20 });
    for (let t = 0; t < TWINS; t++) {
      const twin = sim.addTwin(acme.account);
      for (let i = 0; i < PER_TWIN; i++) sim.setIdentity(twin.uuid, acme.account, `RFID#o${t}x${i}`);
    }
    await sim.settle();
    const res = await api.post('/sync/sources', {
      secret: acme.secret,
      body: { name: 'sim', base_url: sim.baseUrl, secret: sim.addCredential(acme.account), max_rate: 1000 },
    });
    source = res.body.uuid;
    // The worker reaches PostgreSQL through the proxy; the API (which reports the run) directly.
    const viaProxy = new URL(config.DATABASE_URL);
    viaProxy.port = String(await proxy.start());
    workerConfig = { ...config, DATABASE_URL: viaProxy.toString() };
    worker = await startWorker(workerConfig);
  }, 60_000);

  afterAll(async () => {
    await proxy.start().catch(() => undefined);
    await worker?.close();
    await proxy.stop();
    await sim.stop();
    await db.end();
    await api.stop();
    await redis.stop();
  }, 60_000);

  const storedIdentities = async () =>
    (await db.query(`SELECT count(*)::int AS n FROM identities WHERE source = $1`, [source])).rows[0]
      .n as number;

  it('ends the run with true counts, and the next run converges exactly', async () => {
    const run = await startRun(api, acme.secret, source);
    await waitFor(
      async () => ((await storedIdentities()) >= 150 ? true : undefined),
      'the run to be under way',
      30_000,
      10,
    );
    await proxy.stop();
    await redis.down();
    await sleep(1_500);
    await redis.up();
    await sleep(2_000);
    await proxy.start();

    const report = await finishedRun(api, acme.secret, run.uuid, 150_000);
    expect(['completed', 'failed']).toContain(report.status);
    expect(report.counts.twins).toBe(TWINS);
    // True counts: every twin not counted as failed was synced, with all its identities, and the upserts say so.
    const stored = await storedIdentities();
    expect(stored).toBe((TWINS - report.counts.failed) * PER_TWIN);
    expect(report.counts.upserted).toBe(stored);
    console.info(
      `run after the outage: ${report.status}, failed ${report.counts.failed}, retries ${report.counts.retries}`,
    );

    const next = await syncAndWait(api, acme.secret, source, 'full', 90_000);
    expect(next).toMatchObject({ status: 'completed', counts: { twins: TWINS, failed: 0 } });
    expect(next.counts.upserted).toBe(TWINS * PER_TWIN - stored);
    expect(await indexSnapshot(db, source)).toEqual(expectedSnapshot(sim, acme.account, false));
  }, 300_000);

  it('runs a run whose scan job Redis lost before any worker took it', async () => {
    await worker.close();
    const run = await startRun(api, acme.secret, source);
    expect(run.status).toBe('queued');
    await redis.down();
    await redis.up();
    worker = await startWorker(workerConfig);
    const report = await finishedRun(api, acme.secret, run.uuid, 90_000);
    expect(report).toMatchObject({
      status: 'completed',
      counts: { twins: TWINS, failed: 0, upserted: 0, deleted: 0 },
    });
  }, 120_000);
});
