import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Client } from 'pg';
import { bullConnection } from '../libs/queue/bull-connection.js';
import { QUEUES } from '../libs/queue/job-catalogue.js';
import { WEBHOOK_DEBOUNCE_MS } from '../libs/queue/sync-producer.js';
import { PushIntakeToken } from '../libs/sync/push-intake-token.js';
import { expectErrorShape, type TestAccount, TestApi } from './support/test-app.js';

/** The sync API without a worker: sources, their secrets and schedules, runs being queued, webhook admission. */
describe('sync sources API', () => {
  let api: TestApi;
  let db: Client;
  let alice: TestAccount;
  let bob: TestAccount;
  let scans: Queue;
  let twinJobs: Queue;

  const aSource = (over: Record<string, unknown> = {}) => ({
    name: 'tt-prod',
    base_url: 'https://upstream.example/api',
    secret: 'upstream-user-secret-123',
    ...over,
  });

  beforeAll(async () => {
    api = await TestApi.start();
    db = new Client({ connectionString: api.config.DATABASE_URL });
    await db.connect();
    alice = await api.createAccount('alice');
    bob = await api.createAccount('bob');
    const opts = { connection: bullConnection(api.config), prefix: api.config.REDIS_PREFIX };
    scans = new Queue(QUEUES.sync, opts);
    twinJobs = new Queue(QUEUES.syncTwins, opts);
  }, 60_000);
  afterAll(async () => {
    await scans.obliterate({ force: true });
    await twinJobs.obliterate({ force: true });
    await scans.close();
    await twinJobs.close();
    await db.end();
    await api.stop();
  }, 60_000);

  it('creates a source, shows the webhook token once and never the secret', async () => {
    const res = await api.post('/sync/sources', { secret: alice.secret, body: aSource() });
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(
      [
        'base_url',
        'created_ts',
        'enabled',
        'include_foreign',
        'max_concurrency',
        'max_rate',
        'name',
        'schedule',
        'subscribe',
        'updated_ts',
        'uuid',
        'webhook_token',
      ].sort(),
    );
    expect(res.body).toMatchObject({
      name: 'tt-prod',
      enabled: true,
      include_foreign: false,
      schedule: null,
    });
    expect(res.text).not.toContain('upstream-user-secret-123');
    const again = await api.get(`/sync/sources/${res.body.uuid}`, { secret: alice.secret });
    expect(again.status).toBe(200);
    expect(again.body.webhook_token).toBeUndefined();
    expect(again.text).not.toContain('upstream-user-secret-123');
    const list = await api.get('/sync/sources', { secret: alice.secret });
    expect(list.body.sources.map((s: { uuid: string }) => s.uuid)).toContain(res.body.uuid);
  });

  it('stores the secret encrypted and the webhook token only as a hash', async () => {
    const res = await api.post('/sync/sources', { secret: alice.secret, body: aSource() });
    const rows = await db.query(
      `SELECT secret_encrypted, webhook_token_hash FROM sync_sources WHERE uuid = $1`,
      [res.body.uuid],
    );
    const stored = rows.rows[0] as { secret_encrypted: Buffer; webhook_token_hash: Buffer };
    expect(stored.secret_encrypted.toString('latin1')).not.toContain('upstream-user-secret-123');
    expect(stored.webhook_token_hash.length).toBe(32);
    expect(stored.webhook_token_hash.toString('latin1')).not.toContain(res.body.webhook_token);
  });

  it.each([
    ['a missing secret', { name: 'x', base_url: 'https://u.example' }, 'invalid_body'],
    ['a non-http base_url', aSource({ base_url: 'ftp://u.example' }), 'invalid_body'],
    ['credentials in the base_url', aSource({ base_url: 'https://me:pw@u.example' }), 'invalid_body'],
    ['a bad schedule', aSource({ schedule: 'every minute' }), 'invalid_body'],
    ['an unknown attribute', aSource({ owner: randomUUID() }), 'unknown_attribute'],
    ['a blank name', aSource({ name: '  ' }), 'invalid_body'],
  ])('refuses %s', async (_label, body, subcode) => {
    expectErrorShape(await api.post('/sync/sources', { secret: alice.secret, body }), 400, subcode);
  });

  it("answers 404 for another account's source and runs, and for non-UUID ids", async () => {
    const mine = await api.post('/sync/sources', { secret: alice.secret, body: aSource() });
    const id = mine.body.uuid as string;
    expectErrorShape(await api.get(`/sync/sources/${id}`, { secret: bob.secret }), 404);
    expectErrorShape(
      await api.patch(`/sync/sources/${id}`, { secret: bob.secret, body: { enabled: false } }),
      404,
    );
    expectErrorShape(await api.delete(`/sync/sources/${id}`, { secret: bob.secret }), 404);
    expectErrorShape(await api.post(`/sync/sources/${id}/runs`, { secret: bob.secret, body: {} }), 404);
    expectErrorShape(await api.get(`/sync/sources/not-a-uuid`, { secret: alice.secret }), 404);
    const run = await api.post(`/sync/sources/${id}/runs`, { secret: alice.secret, body: { mode: 'full' } });
    expect(run.status).toBe(202);
    expectErrorShape(await api.get(`/sync/runs/${run.body.uuid}`, { secret: bob.secret }), 404);
    const bobsRuns = await api.get('/sync/runs', { secret: bob.secret });
    expect(bobsRuns.body.runs).toEqual([]);
  });

  it('needs a secret and the sync actions', async () => {
    expectErrorShape(await api.get('/sync/sources'), 401);
    expectErrorShape(await api.post('/sync/sources', { body: aSource() }), 401);
  });

  it('queues a run: 202 with the queued report, and one scan job', async () => {
    const src = await api.post('/sync/sources', { secret: alice.secret, body: aSource() });
    const res = await api.post(`/sync/sources/${src.body.uuid}/runs`, {
      secret: alice.secret,
      body: { mode: 'incremental' },
    });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({
      source: src.body.uuid,
      mode: 'incremental',
      status: 'queued',
      progress: 0,
      counts: { twins: 0, upserted: 0, deleted: 0, failed: 0 },
      started_ts: null,
      finished_ts: null,
      errors: [],
    });
    const job = await scans.getJob(`run.${res.body.uuid}`);
    expect(job?.data).toEqual({
      sourceId: src.body.uuid,
      account: alice.account,
      runId: res.body.uuid,
      mode: 'incremental',
    });
    const runs = await api.get(`/sync/sources/${src.body.uuid}/runs`, { secret: alice.secret });
    expect(runs.body.runs.map((r: { uuid: string }) => r.uuid)).toEqual([res.body.uuid]);
    expectErrorShape(
      await api.post(`/sync/sources/${src.body.uuid}/runs`, {
        secret: alice.secret,
        body: { mode: 'sideways' },
      }),
      400,
    );
  });

  it('refuses to run a disabled source', async () => {
    const src = await api.post('/sync/sources', { secret: alice.secret, body: aSource({ enabled: false }) });
    expectErrorShape(
      await api.post(`/sync/sources/${src.body.uuid}/runs`, { secret: alice.secret, body: {} }),
      400,
      'sync_source_disabled',
    );
  });

  it('keeps one job scheduler per enabled, scheduled source, and drops it when the schedule goes', async () => {
    const src = await api.post('/sync/sources', {
      secret: alice.secret,
      body: aSource({ schedule: '*/10 * * * *' }),
    });
    const id = src.body.uuid as string;
    const scheduler = () => scans.getJobScheduler(`sync-source.${id}`);
    expect((await scheduler())?.pattern).toBe('*/10 * * * *');
    await api.patch(`/sync/sources/${id}`, { secret: alice.secret, body: { schedule: '0 * * * *' } });
    expect((await scheduler())?.pattern).toBe('0 * * * *');
    await api.patch(`/sync/sources/${id}`, { secret: alice.secret, body: { enabled: false } });
    expect(await scheduler()).toBeFalsy();
    await api.patch(`/sync/sources/${id}`, { secret: alice.secret, body: { enabled: true } });
    expect((await scheduler())?.pattern).toBe('0 * * * *');
    await api.patch(`/sync/sources/${id}`, { secret: alice.secret, body: { schedule: null } });
    expect(await scheduler()).toBeFalsy();
  });

  it('replaces the secret on PATCH and keeps what was not given', async () => {
    const src = await api.post('/sync/sources', {
      secret: alice.secret,
      body: aSource({ include_foreign: true }),
    });
    const before = await db.query(`SELECT secret_encrypted FROM sync_sources WHERE uuid = $1`, [
      src.body.uuid,
    ]);
    const res = await api.patch(`/sync/sources/${src.body.uuid}`, {
      secret: alice.secret,
      body: { secret: 'another-secret', name: 'renamed' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      name: 'renamed',
      include_foreign: true,
      base_url: 'https://upstream.example/api',
    });
    const after = await db.query(`SELECT secret_encrypted FROM sync_sources WHERE uuid = $1`, [
      src.body.uuid,
    ]);
    expect(after.rows[0].secret_encrypted.equals(before.rows[0].secret_encrypted)).toBe(false);
  });

  describe('webhook', () => {
    let source: string;
    let token: string;
    beforeAll(async () => {
      const res = await api.post('/sync/sources', { secret: alice.secret, body: aSource() });
      source = res.body.uuid;
      token = res.body.webhook_token;
    });

    it('accepts events naming twins with the right token: 202 and one debounced job per twin', async () => {
      const twin = randomUUID();
      const res = await api.post(`/sync/sources/${source}/webhook`, {
        headers: { 'x-webhook-token': token },
        body: [
          { event: 'identity_created', twin },
          { event: 'identity_updated', twin },
          { event: 'twin_updated', twin: twin.toUpperCase() },
        ],
      });
      expect(res.status).toBe(202);
      expect(res.body).toEqual({ queued: 1 });
      const again = await api.post(`/sync/sources/${source}/webhook`, {
        headers: { 'x-webhook-token': token },
        body: { twin },
      });
      expect(again.status).toBe(202);
      const jobs = (await twinJobs.getJobs(['delayed', 'waiting'])).filter((j) => j.data.twin === twin);
      expect(jobs).toHaveLength(1);
      expect(jobs[0].data).toEqual({ sourceId: source, account: alice.account, twin });
    });

    it("queues a message of the source's own push subscription with the short push delay, other events with the half-second debounce", async () => {
      const [pushed, plain] = [randomUUID(), randomUUID()];
      const pushToken = new PushIntakeToken(api.config.TWINDEX_SECRET_KEY!).for(source);
      expect(
        (
          await api.post(`/sync/sources/${source}/webhook`, {
            query: { token: pushToken },
            body: { twin: pushed },
          })
        ).status,
      ).toBe(202);
      expect(
        (
          await api.post(`/sync/sources/${source}/webhook`, {
            headers: { 'x-webhook-token': token },
            body: { twin: plain },
          })
        ).status,
      ).toBe(202);
      const jobs = await twinJobs.getJobs(['delayed', 'waiting']);
      const delayOf = (twin: string) => jobs.find((j) => j.data.twin === twin)?.opts.delay;
      expect(delayOf(pushed)).toBe(api.config.SYNC_PUSH_DEBOUNCE_MS);
      expect(delayOf(plain)).toBe(WEBHOOK_DEBOUNCE_MS);
      expect(api.config.SYNC_PUSH_DEBOUNCE_MS).toBeLessThan(WEBHOOK_DEBOUNCE_MS);
    });

    it('answers 401 to a wrong or missing token, and to an unknown source', async () => {
      const body = { twin: randomUUID() };
      expectErrorShape(
        await api.post(`/sync/sources/${source}/webhook`, {
          headers: { 'x-webhook-token': `${token}x` },
          body,
        }),
        401,
      );
      expectErrorShape(await api.post(`/sync/sources/${source}/webhook`, { body }), 401);
      expectErrorShape(
        await api.post(`/sync/sources/${randomUUID()}/webhook`, {
          headers: { 'x-webhook-token': token },
          body,
        }),
        401,
      );
    });

    it('answers 400 to a body naming no twin', async () => {
      for (const body of [{}, [], [{ event: 'x' }], { twin: 'not-a-uuid' }, 'text']) {
        expectErrorShape(
          await api.post(`/sync/sources/${source}/webhook`, { headers: { 'x-webhook-token': token }, body }),
          400,
        );
      }
    });
  });

  it('deletes a source with every row it synced, and only those', async () => {
    const src = await api.post('/sync/sources', { secret: alice.secret, body: aSource() });
    const id = src.body.uuid as string;
    const other = await api.post('/sync/sources', { secret: alice.secret, body: aSource() });
    const synced = randomUUID();
    const shared = randomUUID();
    const ts = Date.now() / 1000;
    for (const twin of [synced, shared]) {
      await db.query(
        `INSERT INTO twins (uuid, owner, status, creator, created_ts, updated_ts, source) VALUES ($1, $2, 'alive', $2, $3, $3, $4)`,
        [twin, alice.account, ts, id],
      );
      await db.query(`INSERT INTO sync_twins (source, twin, present, fetched_ts) VALUES ($1, $2, true, $3)`, [
        id,
        twin,
        ts,
      ]);
    }
    await db.query(`INSERT INTO sync_twins (source, twin, present, fetched_ts) VALUES ($1, $2, true, $3)`, [
      other.body.uuid,
      shared,
      ts,
    ]);
    await db.query(
      `INSERT INTO identities (name, twin, owner, created_ts, updated_ts, creator, source)
       VALUES ('RFID#a', $1, $2, $3, $3, $2, $4), ('RFID#b', $5, $2, $3, $3, $2, $6), ('RFID#c', $5, $2, $3, $3, $2, NULL)`,
      [synced, alice.account, ts, id, shared, other.body.uuid],
    );
    const res = await api.delete(`/sync/sources/${id}`, { secret: alice.secret });
    expect(res.status).toBe(200);
    const names = await db.query(`SELECT name FROM identities WHERE twin = ANY($1) ORDER BY name`, [
      [synced, shared],
    ]);
    expect(names.rows.map((r) => r.name)).toEqual(['RFID#b', 'RFID#c']);
    const twins = await db.query(`SELECT uuid FROM twins WHERE uuid = ANY($1)`, [[synced, shared]]);
    expect(twins.rows.map((r) => r.uuid)).toEqual([shared]);
    expectErrorShape(await api.get(`/sync/sources/${id}`, { secret: alice.secret }), 404);
  });
});
