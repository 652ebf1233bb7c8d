import { randomUUID } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import { Client } from 'pg';
import { TestApi, type TestAccount } from './support/test-app.js';
import { UpstreamSimulator } from './upstream-simulator/simulator.js';
import {
  clearQueues,
  expectedSnapshot,
  finishedRun,
  indexSnapshot,
  startWorker,
  syncAndWait,
} from './upstream-simulator/sync-harness.js';

/** An unreliable, rate-limiting upstream in the Trusted Twin page shape: retried, reported, converged. */
describe('sync against a faulty upstream', () => {
  let api: TestApi;
  let db: Client;
  let worker: INestApplicationContext;
  let sim: UpstreamSimulator;
  let beta: TestAccount;
  const other = randomUUID();

  beforeAll(async () => {
    api = await TestApi.start();
    db = new Client({ connectionString: api.config.DATABASE_URL });
    await db.connect();
    beta = await api.createAccount('beta');
    sim = await UpstreamSimulator.start({ maxPageSize: 25, pageShape: 'uuids', ignoreUpdatedSince: true });
    for (let t = 0; t < 60; t++) {
      const twin = sim.addTwin(beta.account);
      sim.setIdentity(twin.uuid, beta.account, `RFID#b${t}`, { visibility: t % 2 ? 'true' : null });
      sim.setIdentity(twin.uuid, beta.account, `SN#b${t}`, { validity_ts: 1_000_000_000 });
      sim.setIdentity(twin.uuid, other, `GTIN#o${t}`);
    }
    worker = await startWorker(api.config);
  }, 60_000);
  afterAll(async () => {
    await worker.close();
    await sim.stop();
    await db.end();
    await clearQueues(api.config);
    await api.stop();
  }, 60_000);

  const createSource = async (body: Record<string, unknown> = {}) => {
    const res = await api.post('/sync/sources', {
      secret: beta.secret,
      body: { name: 'flaky', base_url: sim.baseUrl, secret: sim.addCredential(beta.account), ...body },
    });
    expect(res.status).toBe(201);
    return res.body.uuid as string;
  };

  it('retries 429 (honouring Retry-After), 500s, dropped connections and timeouts, and converges', async () => {
    sim.knobs.every = { '429': 25, '500': 7, drop: 13, hang: 29 };
    let source: string;
    try {
      source = await createSource({ max_rate: 500 });
      const run = await syncAndWait(api, beta.secret, source, 'full', 120_000);
      expect(run.status).toBe('completed');
      expect(run.counts).toMatchObject({ twins: 60, upserted: 120, deleted: 0, failed: 0 });
      expect(run.counts.retries).toBeGreaterThan(10);
      for (const fault of ['429', '500', 'drop', 'hang'] as const)
        expect(sim.stats.faults[fault]).toBeGreaterThan(0);
    } finally {
      sim.knobs.every = {};
    }
    // Without include_foreign, another account's identities are not stored at all.
    expect(await indexSnapshot(db, source)).toEqual(expectedSnapshot(sim, beta.account, false));
    // The upstream ignores updated_since: an incremental run sees every twin and still changes nothing.
    const incremental = await syncAndWait(api, beta.secret, source, 'incremental');
    expect(incremental.counts).toMatchObject({ twins: 60, upserted: 0, deleted: 0, failed: 0 });
    await api.delete(`/sync/sources/${source}`, { secret: beta.secret });
  }, 150_000);

  it('retries a scan whose upstream keeps failing for a while, and completes the same run', async () => {
    const source = await createSource();
    sim.failPath('/twins', '500');
    const res = await api.post(`/sync/sources/${source}/runs`, { secret: beta.secret, body: {} });
    expect(res.status).toBe(202);
    // Long enough for the first scan attempt to use up its calls; BullMQ retries the job seconds later.
    await new Promise((r) => setTimeout(r, 1_000));
    sim.failPath('/twins', undefined);
    const run = await finishedRun(api, beta.secret, res.body.uuid, 60_000);
    expect(run).toMatchObject({ status: 'completed', counts: { twins: 60, failed: 0 } });
    expect(run.counts.retries).toBeGreaterThan(0);
    await api.delete(`/sync/sources/${source}`, { secret: beta.secret });
  }, 70_000);

  it('fails at once, reporting it, when upstream refuses the credential', async () => {
    const res = await api.post('/sync/sources', {
      secret: beta.secret,
      body: { name: 'wrong', base_url: sim.baseUrl, secret: 'not-a-credential' },
    });
    const run = await syncAndWait(api, beta.secret, res.body.uuid);
    expect(run.status).toBe('failed');
    expect(run.errors).toEqual([
      expect.objectContaining({ twin: null, description: expect.stringContaining('401') }),
    ]);
    expect(run.finished_ts).toEqual(expect.any(Number));
  }, 60_000);
});
