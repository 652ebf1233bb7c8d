/**
 * Issue #10, points 2, 3, 4, 5 and 7: a tenant with a legitimate account attacks the queue dashboard, sync and the
 * authentication paths. One test per attack; each failed on the code before the fix.
 */
import { randomUUID } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import { Queue } from 'bullmq';
import { Client } from 'pg';
import { bullConnection } from '../libs/queue/bull-connection.js';
import { QUEUES } from '../libs/queue/job-catalogue.js';
import { credentialContext } from '../libs/sync/credential-context.js';
import { SecretBox } from '../libs/sync/secret-box.js';
import { ApiProcess } from './support/api-process.js';
import { expectErrorShape, type TestAccount, TestApi } from './support/test-app.js';
import { isolatedConfig, OPERATOR_KEY } from './support/test-env.js';
import { stageHostileUpstream } from './upstream-simulator/hostile-upstream.js';
import { UpstreamSimulator } from './upstream-simulator/simulator.js';
import { clearQueues, startWorker, syncAndWait, waitFor } from './upstream-simulator/sync-harness.js';
import { dropDatabase, ensureDatabase, runMigrations } from '../libs/store/database-setup.js';

const SLOW = 180_000;

describe('hostile tenant: queue dashboard (point 2)', () => {
  const config = isolatedConfig();
  let api: ApiProcess;
  let admin: TestAccount;

  beforeAll(async () => {
    await ensureDatabase(config.DATABASE_URL);
    await runMigrations(config.DATABASE_URL);
    // A real process: Bull Board's UI cannot be loaded under Jest, and the gate must guard the real thing.
    api = await ApiProcess.start(config);
    const res = await fetch(`${api.baseUrl}/accounts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${OPERATOR_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'tenant' }),
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { secret: string; account: { uuid: string } };
    admin = { secret: body.secret, account: body.account.uuid, user: '', role: '' };
  }, SLOW);
  afterAll(async () => {
    await api?.stop();
    await clearQueues(config);
    await dropDatabase(config.DATABASE_URL);
  }, SLOW);

  it(
    "refuses an account Admin's secret and admits the operator, by Bearer key and by the login form",
    async () => {
      const get = (path: string, headers: Record<string, string> = {}) =>
        fetch(`${api.baseUrl}${path}`, { headers, redirect: 'manual' });
      // An account's Admin holds every action of its account, yet the queues hold every account's jobs.
      for (const path of ['/queues', '/queues/api/queues', '/queues/static/css/main.css']) {
        const asAdmin = await get(path, { authorization: `Bearer ${admin.secret}` });
        expect([401, 403]).toContain(asAdmin.status);
        expect(await asAdmin.text()).not.toContain(QUEUES.syncTwins);
      }
      expect((await get('/queues/api/queues')).status).toBe(401);

      const asOperator = await get('/queues/api/queues', { authorization: `Bearer ${OPERATOR_KEY}` });
      expect(asOperator.status).toBe(200);
      expect(await asOperator.text()).toContain(QUEUES.syncTwins);

      // A browser without a session is sent to the form.
      const page = await get('/queues', { accept: 'text/html' });
      expect(page.status).toBe(303);
      expect(page.headers.get('location')).toBe('/queues/login');
      const form = await get('/queues/login');
      expect(form.status).toBe(200);
      expect(await form.text()).toContain('name="key"');

      const login = (key: string) =>
        fetch(`${api.baseUrl}/queues/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ key }).toString(),
          redirect: 'manual',
        });
      const refused = await login(admin.secret);
      expect(refused.status).toBe(401);
      expect(refused.headers.get('set-cookie')).toBeNull();

      const signedIn = await login(OPERATOR_KEY);
      expect(signedIn.status).toBe(303);
      const cookie = signedIn.headers.get('set-cookie') ?? '';
      expect(cookie).toMatch(/HttpOnly/);
      expect(cookie).toMatch(/SameSite=Strict/);
      const session = cookie.split(';')[0];
      const withSession = await get('/queues/api/queues', { cookie: session });
      expect(withSession.status).toBe(200);
      // A forged or altered session is worth nothing.
      const forged = session.replace(/=\d+\./, '=99999999999999.');
      expect((await get('/queues/api/queues', { cookie: forged })).status).toBe(401);
    },
    SLOW,
  );
});

describe('hostile tenant: sync (points 2, 3, 4)', () => {
  let api: TestApi;
  let worker: INestApplicationContext | undefined;
  let sim: UpstreamSimulator;
  let other: UpstreamSimulator;
  let db: Client;
  let victim: TestAccount;
  let attacker: TestAccount;

  beforeAll(async () => {
    api = await TestApi.start(isolatedConfig({ SYNC_ALLOWED_HOSTS: '127.0.0.1' }));
    db = new Client({ connectionString: api.config.DATABASE_URL });
    await db.connect();
    sim = await UpstreamSimulator.start();
    other = await UpstreamSimulator.start();
    victim = await api.createAccount('victim');
    attacker = await api.createAccount('attacker');
    worker = await startWorker(api.config);
  }, SLOW);
  afterAll(async () => {
    await worker?.close();
    await clearQueues(api.config);
    await sim.stop();
    await other.stop();
    await db.end();
    await api.stop();
  }, SLOW);

  const createSource = async (baseUrl: string, secret: string) => {
    const res = await api.post('/sync/sources', {
      secret: attacker.secret,
      body: { name: `src-${randomUUID().slice(0, 8)}`, base_url: baseUrl, secret },
    });
    expect(res.status).toBe(201);
    return res.body.uuid as string;
  };

  it(
    "a hostile upstream cannot take over, terminate, plant or decorate another account's twins (point 3)",
    async () => {
      const twin = await api.post('/twins', {
        secret: victim.secret,
        body: { description: { note: 'original' } },
      });
      expect(twin.status).toBe(201);
      const claims = stageHostileUpstream(sim, attacker.account, victim.account, twin.body.uuid);
      const source = await createSource(sim.baseUrl, sim.addCredential(attacker.account));

      const run = await syncAndWait(api, attacker.secret, source);
      expect(run.status).toBe('completed');
      expect(run.counts.failed).toBe(2);
      const reasons = run.errors.map((e) => e.description).join('\n');
      expect(reasons).toContain(`twin ${claims.hijackedTwin} refused`);
      expect(reasons).toContain(`twin ${claims.plantedTwin} refused`);

      // The victim's twin is untouched: still its own, alive, with its description, and carries no identity of B.
      const after = await api.get(`/twins/${claims.hijackedTwin}`, { secret: victim.secret });
      expect(after.status).toBe(200);
      expect(after.body).toMatchObject({
        owner: victim.account,
        status: 'alive',
        description: { note: 'original' },
      });
      const onVictimTwin = await db.query(`SELECT 1 FROM identities WHERE twin = $1`, [claims.hijackedTwin]);
      expect(onVictimTwin.rowCount).toBe(0);
      // No twin appears as the victim's own.
      expect((await api.get(`/twins/${claims.plantedTwin}`, { secret: victim.secret })).status).toBe(404);
      const planted = await db.query(`SELECT 1 FROM twins WHERE uuid = $1`, [claims.plantedTwin]);
      expect(planted.rowCount).toBe(0);
      // The identity resolves only to the attacker's own twin, in every context, for anyone.
      for (const caller of [victim, attacker]) {
        for (const context of ['personal', 'system']) {
          const resolved = await api.get(`/resolve/${encodeURIComponent(claims.identity)}`, {
            secret: caller.secret,
            query: { context },
          });
          expect(resolved.status).toBe(200);
          expect(resolved.body.twins).not.toContain(claims.hijackedTwin);
          expect(resolved.body.twins).not.toContain(claims.plantedTwin);
        }
      }
      const own = await api.get(`/resolve/${encodeURIComponent(claims.identity)}`, {
        secret: attacker.secret,
      });
      expect(own.body.twins).toEqual([claims.ownTwin]);
    },
    SLOW,
  );

  it(
    'a worker refuses a job naming a source of another account (point 2)',
    async () => {
      const source = await createSource(sim.baseUrl, sim.addCredential(attacker.account));
      const twins = new Queue(QUEUES.syncTwins, {
        connection: bullConnection(api.config),
        prefix: api.config.REDIS_PREFIX,
      });
      try {
        const job = await twins.add('sync-twin', {
          sourceId: source,
          account: victim.account,
          runId: null,
          twin: randomUUID(),
        });
        const failed = await waitFor(async () => {
          const state = await twins.getJob(job.id as string);
          return state?.failedReason ? state.failedReason : undefined;
        }, 'the forged job to fail');
        expect(failed).toContain('job refused');
      } finally {
        await twins.close();
      }
    },
    SLOW,
  );

  it(
    'a base_url moved elsewhere never carries the stored secret there (point 4)',
    async () => {
      const secret = sim.addCredential(attacker.account, `upstream-secret-${randomUUID()}`);
      const source = await createSource(sim.baseUrl, secret);
      // Through the API: moving the source to another origin takes the secret again.
      const moved = await api.patch(`/sync/sources/${source}`, {
        secret: attacker.secret,
        body: { base_url: other.baseUrl },
      });
      expectErrorShape(moved, 400, 'secret_required');
      // Around the API (a race, a direct write): the credential is bound to its origin and will not open elsewhere.
      await db.query(`UPDATE sync_sources SET base_url = $2 WHERE uuid = $1`, [source, other.baseUrl]);
      const run = await syncAndWait(api, attacker.secret, source);
      expect(run.status).toBe('failed');
      expect(other.credentialsSeen).not.toContain(secret);
      expect(other.stats.requests).toBe(0);
      // And the run report carries our words, never an upstream body.
      expect(JSON.stringify(run.errors)).not.toContain('subcode');
    },
    SLOW,
  );
});

describe('hostile tenant: SSRF and throttling (points 5, 7)', () => {
  let api: TestApi;
  let tenant: TestAccount;
  let sim: UpstreamSimulator;

  beforeAll(async () => {
    api = await TestApi.start(
      isolatedConfig({
        SYNC_ALLOWED_HOSTS: '',
        RATE_LIMIT_FAILURES_PER_ADDRESS: '5',
        RATE_LIMIT_FAILURES_PER_ACCOUNT: '5',
        RATE_LIMIT_WINDOW_S: '600',
      }),
    );
    tenant = await api.createAccount('ssrf');
    sim = await UpstreamSimulator.start();
  }, SLOW);
  afterAll(async () => {
    await clearQueues(api.config);
    await sim.stop();
    await api.stop();
  }, SLOW);

  it(
    'refuses loopback, metadata, decimal-IP, [::1] and names resolving to loopback, at creation, update and connect (point 5)',
    async () => {
      const port = new URL(sim.baseUrl).port;
      const refused = [
        `http://127.0.0.1:${port}/`,
        'http://169.254.169.254/latest/meta-data/',
        'http://2130706433/',
        'http://[::1]:8080/',
        'http://[::ffff:127.0.0.1]/',
        'http://10.0.0.1/',
        `http://localhost:${port}/`,
      ];
      for (const base_url of refused) {
        const res = await api.post('/sync/sources', {
          secret: tenant.secret,
          body: { name: 'ssrf', base_url, secret: 'x' },
        });
        expectErrorShape(res, 400, 'forbidden_address');
      }
      const created = await api.post('/sync/sources', {
        secret: tenant.secret,
        body: { name: 'public', base_url: 'https://upstream.example/api', secret: 'x' },
      });
      expect(created.status).toBe(201);
      for (const base_url of refused) {
        const res = await api.patch(`/sync/sources/${created.body.uuid}`, {
          secret: tenant.secret,
          body: { base_url, secret: 'x' },
        });
        expectErrorShape(res, 400, 'forbidden_address');
      }

      // Connect time: a name that passed its check (here: written straight into the table, as if DNS had answered
      // a public address then) is resolved again at connect, and loopback is refused before any byte is sent.
      const source = randomUUID();
      const baseUrl = `http://localhost:${port}`;
      const db = new Client({ connectionString: api.config.DATABASE_URL });
      await db.connect();
      try {
        await db.query(
          `INSERT INTO sync_sources (uuid, account, name, base_url, secret_encrypted, schedule, include_foreign, enabled,
                                   max_concurrency, max_rate, webhook_token_hash, created_ts, updated_ts)
         VALUES ($1, $2, 'rebound', $3, $4, NULL, false, true, 1, 10, $5, 0, 0)`,
          [
            source,
            tenant.account,
            baseUrl,
            new SecretBox(api.config.TWINDEX_SECRET_KEY as string).seal(
              sim.addCredential(tenant.account),
              credentialContext(source, baseUrl),
            ),
            Buffer.alloc(32),
          ],
        );
      } finally {
        await db.end();
      }
      const worker = await startWorker(api.config);
      try {
        const run = await syncAndWait(api, tenant.secret, source);
        expect(run.status).toBe('failed');
        expect(JSON.stringify(run.errors)).toContain('loopback');
        expect(sim.stats.requests).toBe(0);
      } finally {
        await worker.close();
      }
    },
    SLOW,
  );

  it(
    'answers 429 with Retry-After after too many failures, and never slows a valid secret (point 7)',
    async () => {
      const wrong = `twx_${'A'.repeat(43)}000000`;
      const statuses: number[] = [];
      let limited: Awaited<ReturnType<typeof api.get>> | undefined;
      for (let i = 0; i < 8; i++) {
        const res = await api.get('/resolve/RFID%23x', { secret: wrong });
        statuses.push(res.status);
        if (res.status === 429) limited = res;
      }
      expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
      expect(statuses.slice(5)).toEqual([429, 429, 429]);
      expectErrorShape(limited!, 429, 'rate_limited');
      expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThan(0);
      // The same address with a valid secret is served as usual: only failures are throttled.
      expect((await api.get('/resolve/RFID%23x', { secret: tenant.secret })).status).toBe(200);
      // The PIN exchange: refused before the PIN is even checked.
      const pin = await api.post('/secrets', {
        body: { account: tenant.account, user: tenant.user, pin: '000000' },
      });
      expectErrorShape(pin, 429, 'rate_limited');
      expect(pin.headers.get('retry-after')).not.toBeNull();
    },
    SLOW,
  );
});

describe('hostile tenant: guessing webhook tokens', () => {
  let api: TestApi;
  let tenant: TestAccount;

  beforeAll(async () => {
    api = await TestApi.start(
      isolatedConfig({ RATE_LIMIT_FAILURES_PER_ADDRESS: '4', RATE_LIMIT_WINDOW_S: '600' }),
    );
    tenant = await api.createAccount('webhooks');
  }, SLOW);
  afterAll(async () => {
    await clearQueues(api.config);
    await api.stop();
  }, SLOW);

  it(
    'counts wrong webhook tokens like failed logins: 429 with Retry-After once the address has spent its budget',
    async () => {
      const created = await api.post<{ uuid: string; webhook_token: string }>('/sync/sources', {
        secret: tenant.secret,
        body: { name: 'gate', base_url: 'https://upstream.example/api', secret: 'upstream-secret-123' },
      });
      expect(created.status).toBe(201);
      const { uuid: source, webhook_token: token } = created.body;
      const body = { twin: randomUUID() };
      const guess = (path: string) =>
        api.post(path, { headers: { 'x-webhook-token': `twh_${randomUUID()}` }, body });
      const statuses: number[] = [];
      let limited: Awaited<ReturnType<typeof guess>> | undefined;
      for (let i = 0; i < 6; i++) {
        // Alternate the attacked source and unknown ones: both are the same failure.
        const res = await guess(`/sync/sources/${i % 2 ? randomUUID() : source}/webhook`);
        statuses.push(res.status);
        if (res.status === 429) limited = res;
      }
      expect(statuses).toEqual([401, 401, 401, 401, 429, 429]);
      expectErrorShape(limited!, 429, 'rate_limited');
      expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThan(0);
      // The right token still gets through from the same address: only failures are throttled.
      const ok = await api.post(`/sync/sources/${source}/webhook`, {
        headers: { 'x-webhook-token': token },
        body,
      });
      expect(ok.status).toBe(202);
    },
    SLOW,
  );
});
