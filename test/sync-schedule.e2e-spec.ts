import type { INestApplicationContext } from '@nestjs/common';
import { Client } from 'pg';
import { TestApi, type TestAccount } from './support/test-app.js';
import { UpstreamSimulator } from './upstream-simulator/simulator.js';
import { clearQueues, startWorker, waitFor } from './upstream-simulator/sync-harness.js';

const PERIOD_S = 2;

/** A scheduled source keeps running once per period, across worker restarts and restart loops. */
describe('scheduled sync', () => {
  let api: TestApi;
  let db: Client;
  let sim: UpstreamSimulator;
  let acme: TestAccount;
  let source: string;
  let worker: INestApplicationContext | undefined;

  const scheduledRuns = async () =>
    (
      await db.query<{ created_ts: number; status: string }>(
        `SELECT created_ts, status FROM sync_runs WHERE source = $1 AND trigger = 'schedule' ORDER BY created_ts`,
        [source],
      )
    ).rows;

  beforeAll(async () => {
    api = await TestApi.start();
    db = new Client({ connectionString: api.config.DATABASE_URL });
    await db.connect();
    acme = await api.createAccount('acme');
    sim = await UpstreamSimulator.start();
    for (let t = 0; t < 5; t++) sim.setIdentity(sim.addTwin(acme.account).uuid, acme.account, `RFID#s${t}`);
    const res = await api.post('/sync/sources', {
      secret: acme.secret,
      body: {
        name: 'every two seconds',
        base_url: sim.baseUrl,
        secret: sim.addCredential(acme.account),
        schedule: `*/${PERIOD_S} * * * * *`,
      },
    });
    source = res.body.uuid;
  }, 60_000);
  afterAll(async () => {
    await worker?.close();
    await sim.stop();
    await db.end();
    await clearQueues(api.config);
    await api.stop();
  }, 60_000);

  it('runs on schedule, once per period, before and after worker restarts', async () => {
    worker = await startWorker(api.config);
    await waitFor(
      async () => ((await scheduledRuns()).length >= 2 ? true : undefined),
      'two scheduled runs',
      15_000,
    );
    // A restart loop: the scheduler must neither duplicate nor stop.
    for (let i = 0; i < 3; i++) {
      await worker.close();
      worker = await startWorker(api.config);
    }
    const before = (await scheduledRuns()).length;
    await waitFor(
      async () => ((await scheduledRuns()).length >= before + 2 ? true : undefined),
      'two more scheduled runs after the restarts',
      15_000,
    );
    await worker.close();
    worker = undefined;
    const runs = await scheduledRuns();
    for (let i = 1; i < runs.length; i++) {
      // Jobs fire on period boundaries; two runs in one period would be a duplicate.
      expect(Math.floor(runs[i].created_ts / PERIOD_S)).toBeGreaterThan(
        Math.floor(runs[i - 1].created_ts / PERIOD_S),
      );
    }
    expect(runs.filter((r) => r.status === 'completed').length).toBeGreaterThanOrEqual(3);
    const synced = await db.query(`SELECT count(*)::int AS n FROM identities WHERE source = $1`, [source]);
    expect(synced.rows[0].n).toBe(5);
  }, 60_000);

  it('stops running when the source is disabled', async () => {
    await api.patch(`/sync/sources/${source}`, { secret: acme.secret, body: { enabled: false } });
    worker = await startWorker(api.config);
    // A job already in hand may still finish; after that, nothing more.
    await new Promise((r) => setTimeout(r, PERIOD_S * 1000));
    const settled = (await scheduledRuns()).length;
    await new Promise((r) => setTimeout(r, 2 * PERIOD_S * 1000));
    expect((await scheduledRuns()).length).toBe(settled);
  }, 60_000);
});
