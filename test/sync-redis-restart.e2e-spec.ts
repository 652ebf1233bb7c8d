import type { INestApplicationContext } from '@nestjs/common';
import { Client } from 'pg';
import { isolatedConfig } from './support/test-env.js';
import { TestApi, type TestAccount } from './support/test-app.js';
import { PrivateRedis } from './upstream-simulator/private-redis.js';
import { UpstreamSimulator } from './upstream-simulator/simulator.js';
import {
  expectedSnapshot,
  finishedRun,
  indexSnapshot,
  startRun,
  startWorker,
  waitFor,
} from './upstream-simulator/sync-harness.js';

/** Redis restarting in the middle of a run: the run is not lost, and completes once Redis is back. */
describe('sync across a Redis restart', () => {
  let redis: PrivateRedis;
  let api: TestApi;
  let db: Client;
  let worker: INestApplicationContext;
  let sim: UpstreamSimulator;
  let acme: TestAccount;
  let source: string;

  beforeAll(async () => {
    redis = await PrivateRedis.start();
    api = await TestApi.start(isolatedConfig({ REDIS_URL: redis.url }));
    db = new Client({ connectionString: api.config.DATABASE_URL });
    await db.connect();
    acme = await api.createAccount('acme');
    sim = await UpstreamSimulator.start({ latencyMs: 20 });
    for (let t = 0; t < 300; t++) {
      const twin = sim.addTwin(acme.account);
      for (let i = 0; i < 3; i++) sim.setIdentity(twin.uuid, acme.account, `RFID#r${t}x${i}`);
    }
    await sim.settle();
    const res = await api.post('/sync/sources', {
      secret: acme.secret,
      body: { name: 'sim', base_url: sim.baseUrl, secret: sim.addCredential(acme.account), max_rate: 2000 },
    });
    source = res.body.uuid;
    worker = await startWorker(api.config);
  }, 60_000);
  afterAll(async () => {
    await worker.close();
    await sim.stop();
    await db.end();
    await api.stop();
    await redis.stop();
  }, 60_000);

  it('completes the run and converges after Redis went away mid-run and came back', async () => {
    const run = await startRun(api, acme.secret, source);
    await waitFor(
      async () =>
        (await db.query(`SELECT count(*)::int AS n FROM identities`)).rows[0].n >= 150 ? true : undefined,
      'the run to be under way',
      30_000,
      10,
    );
    await redis.down();
    await new Promise((r) => setTimeout(r, 1_500));
    await redis.up();
    const report = await finishedRun(api, acme.secret, run.uuid, 90_000);
    expect(report).toMatchObject({ status: 'completed', counts: { twins: 300, failed: 0 } });
    expect(await indexSnapshot(db, source)).toEqual(expectedSnapshot(sim, acme.account, false));
  }, 120_000);
});
