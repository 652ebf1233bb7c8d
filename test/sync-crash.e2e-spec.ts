import { Client } from 'pg';
import { TestApi, type TestAccount } from './support/test-app.js';
import { UpstreamSimulator } from './upstream-simulator/simulator.js';
import {
  clearQueues,
  expectedSnapshot,
  finishedRun,
  indexSnapshot,
  startRun,
  syncAndWait,
  waitFor,
} from './upstream-simulator/sync-harness.js';
import { WorkerProcess } from './upstream-simulator/worker-process.js';

const TWINS = 2_000;
const PER_TWIN = 10;

/** The real worker process, killed with SIGKILL in the middle of a 20,000-identity sync, and stopped with SIGTERM. */
describe('sync worker crash and shutdown', () => {
  let api: TestApi;
  let db: Client;
  let sim: UpstreamSimulator;
  let acme: TestAccount;
  let source: string;
  let worker: WorkerProcess | undefined;

  const count = async (sql: string, params: unknown[] = []) =>
    (await db.query<{ n: number }>(sql, params)).rows[0].n;

  beforeAll(async () => {
    api = await TestApi.start();
    db = new Client({ connectionString: api.config.DATABASE_URL });
    await db.connect();
    acme = await api.createAccount('acme');
    sim = await UpstreamSimulator.start({ latencyMs: 3 });
    for (let t = 0; t < TWINS; t++) {
      const twin = sim.addTwin(acme.account, { n: t });
      for (let i = 0; i < PER_TWIN; i++) sim.setIdentity(twin.uuid, acme.account, `RFID#c${t}x${i}`);
    }
    await sim.settle();
    const res = await api.post('/sync/sources', {
      secret: acme.secret,
      body: { name: 'big', base_url: sim.baseUrl, secret: sim.addCredential(acme.account), max_rate: 5000 },
    });
    source = res.body.uuid;
  }, 60_000);
  afterAll(async () => {
    if (worker && worker.child.exitCode === null) {
      worker.kill('SIGKILL');
      await worker.exited;
    }
    await sim.stop();
    await db.end();
    await clearQueues(api.config);
    await api.stop();
  }, 60_000);

  it('converges after SIGKILL mid-sync and a restart: no duplicates, no half-applied twin, no lost row', async () => {
    worker = await WorkerProcess.start(api.config);
    const run = await startRun(api, acme.secret, source);
    await waitFor(
      async () => ((await count(`SELECT count(*)::int AS n FROM identities`)) >= 4_000 ? true : undefined),
      'the sync to be under way',
      60_000,
      20,
    );
    worker.kill('SIGKILL');
    expect((await worker.exited).signal).toBe('SIGKILL');
    const atKill = await count(`SELECT count(*)::int AS n FROM identities`);
    expect(atKill).toBeLessThan(TWINS * PER_TWIN);
    // One transaction per twin: every twin has all of its identities or none.
    expect(
      await count(
        `SELECT count(*)::int AS n FROM (SELECT twin FROM identities GROUP BY twin HAVING count(*) <> $1) partial`,
        [PER_TWIN],
      ),
    ).toBe(0);

    worker = await WorkerProcess.start(api.config);
    // Jobs the killed worker held come back once their locks lapse (stalled-job recovery).
    const report = await finishedRun(api, acme.secret, run.uuid, 90_000);
    expect(report).toMatchObject({ status: 'completed', counts: { twins: TWINS, failed: 0 } });
    expect(await count(`SELECT count(*)::int AS n FROM identities`)).toBe(TWINS * PER_TWIN);
    expect(
      await count(`SELECT count(*)::int AS n FROM (SELECT DISTINCT name, twin, owner FROM identities) d`),
    ).toBe(TWINS * PER_TWIN);
    expect(await indexSnapshot(db, source)).toEqual(expectedSnapshot(sim, acme.account, false));
  }, 150_000);

  it('syncs the same twins again after the restart: a full run changes nothing but what upstream changed', async () => {
    const twins = [...sim.twins.values()];
    for (const t of twins.slice(0, 25)) sim.setIdentity(t.uuid, acme.account, 'RFID#afterrestart');
    const run = await syncAndWait(api, acme.secret, source, 'full', 90_000);
    expect(run.counts).toMatchObject({ twins: TWINS, upserted: 25, deleted: 0, failed: 0 });
    expect(await indexSnapshot(db, source)).toEqual(expectedSnapshot(sim, acme.account, false));
  }, 100_000);

  it('exits 0 within 30 s on SIGTERM in the middle of a run, and the run completes after a restart', async () => {
    const twins = [...sim.twins.values()];
    for (const t of twins.slice(25, 1_025)) sim.setIdentity(t.uuid, acme.account, 'RFID#beforeterm');
    await sim.settle();
    const run = await startRun(api, acme.secret, source);
    await waitFor(
      async () =>
        (await count(`SELECT count(*)::int AS n FROM identities WHERE name = 'RFID#beforeterm'`)) >= 100
          ? true
          : undefined,
      'the run to be under way',
      60_000,
      20,
    );
    const running = worker as WorkerProcess;
    const sent = Date.now();
    running.kill('SIGTERM');
    const exit = await running.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - sent).toBeLessThan(30_000);
    worker = await WorkerProcess.start(api.config);
    const report = await finishedRun(api, acme.secret, run.uuid, 90_000);
    expect(report).toMatchObject({ status: 'completed', counts: { twins: TWINS, failed: 0 } });
    expect(await indexSnapshot(db, source)).toEqual(expectedSnapshot(sim, acme.account, false));
  }, 150_000);
});
