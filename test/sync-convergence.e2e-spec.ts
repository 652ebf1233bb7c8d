import { randomUUID } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import { Client } from 'pg';
import { TwinSyncService } from '../libs/sync/twin-sync.service.js';
import { TestApi, type TestAccount } from './support/test-app.js';
import { UpstreamSimulator } from './upstream-simulator/simulator.js';
import {
  clearQueues,
  expectedSnapshot,
  indexSnapshot,
  startWorker,
  syncAndWait,
  waitFor,
} from './upstream-simulator/sync-harness.js';

/** A source mirroring the simulator converges to exactly its data, and stays there. */
describe('sync convergence', () => {
  let api: TestApi;
  let db: Client;
  let worker: INestApplicationContext;
  let sim: UpstreamSimulator;
  let acme: TestAccount;
  /** Another upstream account whose identities acme's credential also sees. */
  const foreign = randomUUID();
  let source: string;
  let webhookToken: string;

  const seed = (twins: number) => {
    for (let t = 0; t < twins; t++) {
      const twin = sim.addTwin(t % 3 === 0 ? foreign : acme.account, { kind: 'pallet', n: t });
      for (let i = 0; i < 1 + (t % 4); i++) {
        sim.setIdentity(twin.uuid, acme.account, `RFID#t${t}i${i}`, {
          visibility: i % 2 === 0 ? null : 'true',
          validity_ts: i === 2 ? 4_000_000_000 : null,
        });
      }
      if (t % 5 === 0) sim.setIdentity(twin.uuid, foreign, `GTIN#f${t}`);
    }
  };

  beforeAll(async () => {
    api = await TestApi.start();
    db = new Client({ connectionString: api.config.DATABASE_URL });
    await db.connect();
    acme = await api.createAccount('acme');
    // The upstream serves at most 40 twins a page, whatever is asked (the worker asks for 50).
    sim = await UpstreamSimulator.start({ maxPageSize: 40 });
    seed(120);
    await sim.settle();
    const res = await api.post('/sync/sources', {
      secret: acme.secret,
      body: {
        name: 'sim',
        base_url: sim.baseUrl,
        secret: sim.addCredential(acme.account),
        include_foreign: true,
        max_rate: 2000,
      },
    });
    source = res.body.uuid;
    webhookToken = res.body.webhook_token;
    worker = await startWorker(api.config);
  }, 60_000);
  afterAll(async () => {
    await worker.close();
    await sim.stop();
    await db.end();
    await clearQueues(api.config);
    await api.stop();
  }, 60_000);

  const expectConverged = async () =>
    expect(await indexSnapshot(db, source)).toEqual(expectedSnapshot(sim, acme.account, true));

  it('makes the index equal to upstream after a full sync, and reports it', async () => {
    const run = await syncAndWait(api, acme.secret, source);
    const expected = expectedSnapshot(sim, acme.account, true);
    expect(run).toMatchObject({
      status: 'completed',
      progress: 100,
      mode: 'full',
      counts: {
        twins: 120,
        upserted: expected.identities.length + expected.grants.length,
        deleted: 0,
        failed: 0,
      },
      errors: [],
    });
    expect(run.started_ts).toEqual(expect.any(Number));
    expect(run.finished_ts).toBeGreaterThanOrEqual(run.started_ts as number);
    await expectConverged();
  }, 60_000);

  it('stores another account’s identities only as grants to the source’s account', async () => {
    const owned = await db.query(`SELECT count(*)::int AS n FROM identities WHERE owner = $1`, [foreign]);
    expect(owned.rows[0].n).toBe(0);
    const grants = await db.query(`SELECT DISTINCT grantee, owner FROM identity_grants WHERE source = $1`, [
      source,
    ]);
    expect(grants.rows).toEqual([{ grantee: acme.account, owner: foreign }]);
  }, 60_000);

  it('serves synced identities through resolution at once', async () => {
    const twin = [...sim.twins.values()][1];
    const res = await api.get('/resolve/RFID%23t1i0', { secret: acme.secret });
    expect(res.status).toBe(200);
    expect(res.body.twins).toEqual([twin.uuid]);
  }, 60_000);

  it('changes nothing when run again: 0 upserted, 0 deleted', async () => {
    const run = await syncAndWait(api, acme.secret, source);
    expect(run.counts).toMatchObject({ twins: 120, upserted: 0, deleted: 0, failed: 0 });
    await expectConverged();
  }, 60_000);

  it('converges on an incremental run after identities are added, changed and removed and twins terminated', async () => {
    const twins = [...sim.twins.values()];
    sim.setIdentity(twins[4].uuid, acme.account, 'RFID#added');
    sim.setIdentity(twins[5].uuid, acme.account, 'RFID#t5i1', {
      visibility: 'false',
      validity_ts: 4_100_000_000,
    });
    sim.deleteIdentity(twins[6].uuid, acme.account, 'RFID#t6i0');
    sim.deleteIdentity(twins[10].uuid, foreign, 'GTIN#f10');
    sim.terminateTwin(twins[7].uuid);
    const added = sim.addTwin(acme.account);
    sim.setIdentity(added.uuid, acme.account, 'RFID#newtwin');
    const run = await syncAndWait(api, acme.secret, source, 'incremental');
    expect(run.status).toBe('completed');
    // Only the twins updated since the last run started are scanned: the 6 changed ones.
    expect(run.counts.twins).toBe(6);
    expect(run.counts).toMatchObject({ upserted: 3, deleted: 2, failed: 0 });
    await expectConverged();
    const resolved = await api.get('/resolve/RFID%23t6i0', { secret: acme.secret });
    expect(resolved.body.twins).toEqual([]);
  }, 60_000);

  it('sweeps twins upstream no longer has at the end of a full run', async () => {
    const gone = [...sim.twins.values()][8];
    sim.removeTwin(gone.uuid);
    const run = await syncAndWait(api, acme.secret, source, 'full');
    expect(run.counts).toMatchObject({ upserted: 0, deleted: gone.identities.get(acme.account)?.size ?? 0 });
    await expectConverged();
    const twin = await db.query(`SELECT 1 FROM twins WHERE uuid = $1`, [gone.uuid]);
    expect(twin.rowCount).toBe(0);
  }, 60_000);

  it('removes a twin upstream answers 404 for when a webhook names it', async () => {
    const gone = [...sim.twins.values()][9];
    sim.removeTwin(gone.uuid);
    const res = await api.post(`/sync/sources/${source}/webhook`, {
      headers: { 'x-webhook-token': webhookToken },
      body: { event: 'twin_deleted', twin: gone.uuid },
    });
    expect(res.status).toBe(202);
    await waitFor(
      async () =>
        (await db.query(`SELECT 1 FROM twins WHERE uuid = $1`, [gone.uuid])).rowCount === 0
          ? true
          : undefined,
      'the twin to go',
    );
    await expectConverged();
  }, 60_000);

  it('syncs again on a second webhook for a twin whose first webhook job already finished', async () => {
    const twin = [...sim.twins.values()][11];
    const hook = () =>
      api.post(`/sync/sources/${source}/webhook`, {
        headers: { 'x-webhook-token': webhookToken },
        body: { event: 'identity_created', twin: twin.uuid },
      });
    const stored = (name: string) => async () =>
      (await db.query(`SELECT 1 FROM identities WHERE twin = $1 AND name = $2`, [twin.uuid, name])).rowCount
        ? true
        : undefined;
    sim.setIdentity(twin.uuid, acme.account, 'RFID#first');
    expect((await hook()).status).toBe(202);
    await waitFor(stored('RFID#first'), 'the first webhook sync');
    sim.setIdentity(twin.uuid, acme.account, 'RFID#second');
    expect((await hook()).status).toBe(202);
    await waitFor(stored('RFID#second'), 'the second webhook sync');
  }, 60_000);

  it('syncs once more when an event arrives while that twin’s sync is running', async () => {
    const twin = [...sim.twins.values()][12];
    sim.knobs.latencyMs = 400;
    try {
      const hook = () =>
        api.post(`/sync/sources/${source}/webhook`, {
          headers: { 'x-webhook-token': webhookToken },
          body: { twin: twin.uuid },
        });
      const before = sim.stats.requests;
      await hook();
      // Wait until the first sync has asked upstream (it is running), then change upstream and tell us.
      await waitFor(
        async () => (sim.stats.requests > before ? true : undefined),
        'the first sync to start',
        10_000,
        10,
      );
      sim.setIdentity(twin.uuid, acme.account, 'RFID#during');
      await hook();
      await waitFor(
        async () =>
          (await db.query(`SELECT 1 FROM identities WHERE twin = $1 AND name = 'RFID#during'`, [twin.uuid]))
            .rowCount
            ? true
            : undefined,
        'the change made during the running sync',
        15_000,
      );
    } finally {
      sim.knobs.latencyMs = 0;
    }
    await expectConverged();
  }, 60_000);

  it('is safe when two workers reconcile the same twin at once', async () => {
    const twin = [...sim.twins.values()][13];
    sim.setIdentity(twin.uuid, acme.account, 'RFID#concurrent');
    const service = worker.get(TwinSyncService, { strict: false });
    const outcomes = await Promise.all([
      service.sync(source, twin.uuid),
      service.sync(source, twin.uuid),
      service.sync(source, twin.uuid),
    ]);
    expect(outcomes.map((o) => o.result).every((r) => r === 'applied' || r === 'stale')).toBe(true);
    expect(outcomes.reduce((n, o) => n + o.upserted, 0)).toBe(1);
    await expectConverged();
  }, 60_000);

  it('reports an upstream that keeps failing for one twin, and never empties that twin', async () => {
    const twin = [...sim.twins.values()][14];
    const before = (await indexSnapshot(db, source)).identities.filter((l) => l.startsWith(twin.uuid));
    expect(before.length).toBeGreaterThan(0);
    sim.failPath(`/twins/${twin.uuid}/identities`, '500');
    try {
      const run = await syncAndWait(api, acme.secret, source, 'full', 90_000);
      expect(run.status).toBe('completed');
      expect(run.counts.failed).toBe(1);
      expect(run.counts.retries).toBeGreaterThan(0);
      expect(run.errors).toEqual([
        expect.objectContaining({ twin: twin.uuid, description: expect.stringContaining('500') }),
      ]);
    } finally {
      sim.failPath(`/twins/${twin.uuid}/identities`, undefined);
    }
    const after = (await indexSnapshot(db, source)).identities.filter((l) => l.startsWith(twin.uuid));
    expect(after).toEqual(before);
  }, 100_000);

  it('deleting the source removes its rows', async () => {
    const res = await api.delete(`/sync/sources/${source}`, { secret: acme.secret });
    expect(res.status).toBe(200);
    const left = await db.query(
      `SELECT (SELECT count(*) FROM identities WHERE source = $1)::int + (SELECT count(*) FROM identity_grants WHERE source = $1)::int
              + (SELECT count(*) FROM twins WHERE source IS NOT NULL)::int AS n`,
      [source],
    );
    expect(left.rows[0].n).toBe(0);
    // The source's run reports went with it.
    const runs = await api.get('/sync/runs', { secret: acme.secret });
    expect(runs.body.runs).toEqual([]);
  }, 60_000);
});
