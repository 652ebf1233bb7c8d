import { request } from 'node:http';
import type { INestApplicationContext } from '@nestjs/common';
import { Queue } from 'bullmq';
import { Pool } from 'pg';
import { ImportSweeper } from '../apps/worker/imports/import-sweeper.js';
import { bullConnection } from '../libs/queue/bull-connection.js';
import { QUEUES } from '../libs/queue/job-catalogue.js';
import { aName, aTwin, expectStatus, resolve } from './support/factories.js';
import { expectErrorShape, TestApi, type TestAccount } from './support/test-app.js';
import { isolatedConfig } from './support/test-env.js';
import { PrivateRedis } from './upstream-simulator/private-redis.js';
import { clearQueues, startWorker, waitFor } from './upstream-simulator/sync-harness.js';

interface ImportReport {
  status: string;
  counts: { received: number; imported: number; skipped: number };
  errors: Array<{ line: number; subcode: string }>;
}

const NDJSON = { 'content-type': 'application/x-ndjson' };

/** An upload that sends one byte a second until the server answers (or closes); answers what the server said. */
function trickle(
  baseUrl: string,
  secret: string,
): Promise<{ status: number; retryAfter?: string; body: string }> {
  const url = new URL('/imports', baseUrl);
  return new Promise((done) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: { authorization: secret, ...NDJSON },
      },
      (res) => {
        clearInterval(timer);
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => {
          done({
            status: res.statusCode ?? 0,
            retryAfter: res.headers['retry-after'],
            body,
          });
          req.destroy();
        });
      },
    );
    req.on('error', () => {
      clearInterval(timer);
      done({ status: 0, body: '' });
    });
    req.flushHeaders();
    // Declared after the callbacks that clear it: they run only once the request is under way.
    const timer = setInterval(() => req.write('{'), 1_000);
  });
}

/** Imports under faults (issue 11): slow clients, poison lines, Redis away, merge jobs lost. */
describe('Import faults', () => {
  let api: TestApi;
  let pool: Pool;

  describe('slow uploads and poison lines', () => {
    let worker: INestApplicationContext;
    let alice: TestAccount;

    beforeAll(async () => {
      api = await TestApi.start(
        isolatedConfig({
          DATABASE_POOL_SIZE: '3',
          IMPORT_UPLOAD_WINDOW_MS: '2000',
          IMPORT_MIN_UPLOAD_BYTES: '64',
          IMPORT_MAX_CONCURRENT: '4',
          IMPORT_MAX_CONCURRENT_PER_ACCOUNT: '2',
        }),
      );
      worker = await startWorker(api.config);
      pool = new Pool({ connectionString: api.config.DATABASE_URL, max: 1 });
      alice = await api.createAccount('alice');
    }, 60_000);

    afterAll(async () => {
      await worker.close();
      await pool.end();
      await clearQueues(api.config);
      await api.stop();
    }, 60_000);

    it("ten trickling uploads (1 byte/s) never hold the API: other tenants' requests keep 2xx; the uploads are cut", async () => {
      const slow = await Promise.all([1, 2, 3, 4, 5].map((k) => api.createAccount(`slow-${k}`)));
      const other = await api.createAccount('other');
      const twin = (await aTwin(api, other)).uuid;
      const uploads = slow.flatMap((account) => [
        trickle(api.baseUrl, account.secret),
        trickle(api.baseUrl, account.secret),
      ]);
      let settled = false;
      void Promise.all(uploads).then(() => (settled = true));
      // While they trickle, another tenant works as usual: the database-backed paths and the ready check.
      const statuses: number[] = [];
      for (let k = 0; k < 10 || !settled; k++) {
        const created = await api.post(`/twins/${twin}/identities`, {
          secret: other.secret,
          body: { identities: { [aName()]: {} } },
        });
        statuses.push(created.status);
        statuses.push((await api.get(`/twins/${twin}`, { secret: other.secret })).status);
        statuses.push((await api.get('/health/ready')).status);
        expect(await resolve(api, other, aName())).toEqual([]);
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(statuses.filter((s) => s >= 300)).toEqual([]);
      const answers = await Promise.all(uploads);
      const limited = answers.filter((a) => a.status === 429);
      const cut = answers.filter((a) => a.status === 400);
      // Two per account and four per instance are let in; the rest are refused at once with Retry-After.
      expect(limited.length).toBe(6);
      for (const a of limited) {
        expect(a.retryAfter).toBe('5');
        expect(JSON.parse(a.body)).toMatchObject({ subcode: 'rate_limited' });
      }
      expect(cut.length).toBe(4);
      for (const a of cut) expect(JSON.parse(a.body)).toMatchObject({ subcode: 'upload_too_slow' });
      const { rows } = await pool.query(
        `SELECT 1 FROM imports i JOIN accounts a ON a.uuid = i.account WHERE a.name LIKE 'slow-%'`,
      );
      expect(rows).toHaveLength(0);
    }, 120_000);

    it('a poison line (bad escape, \\u0000, NUL byte, invalid rule) is skipped with its number; the rest land', async () => {
      const twin = (await aTwin(api, alice)).uuid;
      const good = [aName(), aName(), aName()];
      const body = [
        JSON.stringify({ twin, identity: good[0] }), // 1
        `{"twin":"${twin}","identity":"RFID#a\\u0000b"}`, // 2: escaped NUL in the name
        `{"twin":"${twin}","identity":"${aName()}","visibility":"true\\u0000"}`, // 3: escaped NUL in the rule
        `{"twin":"${twin}","identity":"RFID#\\q"}`, // 4: a bad escape
        `{"twin":"${twin}","identity":"${aName()}"}\u0000`, // 5: a NUL byte
        `{"twin":"${twin}","identity":"${good[1]}","note":"\\u0000\\\\\\t"}`, // 6: unknown attribute, ignored
        `{"twin":"${twin}","identity":"${aName()}","visibility":"USER.x == "}`, // 7: invalid rule
        JSON.stringify({ twin, identity: good[2], visibility: '\ttrue\n' }), // 8: a tab and a newline, which COPY text must escape
      ].join('\n');
      const res = await api.post<{ uuid: string }>('/imports', {
        secret: alice.secret,
        raw: body,
        headers: NDJSON,
      });
      expectStatus(res, 202);
      const report = await waitFor(
        async () => {
          const r = await api.get<ImportReport>(`/imports/${res.body.uuid}`, { secret: alice.secret });
          return r.body.status === 'completed' || r.body.status === 'failed' ? r.body : undefined;
        },
        'the import',
        60_000,
      );
      expect(report.status).toBe('completed');
      expect(report.counts).toEqual({ received: 8, imported: 3, changed: 3, skipped: 5 });
      expect(report.errors.map((e) => [e.line, e.subcode])).toEqual([
        [2, 'invalid_identity'],
        [3, 'invalid_rule'],
        [4, 'invalid_json'],
        [5, 'invalid_line'],
        [7, 'invalid_rule'],
      ]);
      const { rows } = await pool.query<{ name: string; visibility: string | null }>(
        'SELECT name, visibility FROM identities WHERE name = ANY($1) ORDER BY name',
        [good],
      );
      expect(rows.map((r) => r.name)).toEqual([...good].sort());
      expect(rows.find((r) => r.name === good[2])?.visibility).toBe('\ttrue\n');
    }, 90_000);

    it('an import whose merge job was lost is queued again by the sweep and completes', async () => {
      await worker.close();
      const twin = (await aTwin(api, alice)).uuid;
      const name = aName();
      const res = await api.post<{ uuid: string }>('/imports', {
        secret: alice.secret,
        raw: JSON.stringify({ twin, identity: name }),
        headers: NDJSON,
      });
      expectStatus(res, 202);
      // Redis loses the job (a restart without persistence), and the import is older than the grace period.
      const queue = new Queue(QUEUES.imports, {
        connection: bullConnection(api.config),
        prefix: api.config.REDIS_PREFIX,
      });
      await queue.obliterate({ force: true });
      await queue.close();
      await pool.query(`UPDATE imports SET created_ts = created_ts - 3600 WHERE uuid = $1`, [res.body.uuid]);
      worker = await startWorker(api.config);
      await worker.get(ImportSweeper).sweep();
      const report = await waitFor(
        async () => {
          const r = await api.get<ImportReport>(`/imports/${res.body.uuid}`, { secret: alice.secret });
          return r.body.status === 'completed' ? r.body : undefined;
        },
        'the re-queued import',
        60_000,
      );
      expect(report.counts).toEqual({ received: 1, imported: 1, changed: 1, skipped: 0 });
      expect(await resolve(api, alice, name)).toEqual([twin]);
    }, 90_000);
  });

  describe('Redis away', () => {
    let redis: PrivateRedis;
    let account: TestAccount;

    beforeAll(async () => {
      redis = await PrivateRedis.start();
      api = await TestApi.start(isolatedConfig({ REDIS_URL: redis.url }));
      pool = new Pool({ connectionString: api.config.DATABASE_URL, max: 1 });
      account = await api.createAccount('acme');
    }, 60_000);

    afterAll(async () => {
      await pool.end();
      await api.stop();
      await redis.stop();
    }, 60_000);

    async function imports(): Promise<number> {
      const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM imports');
      return Number(rows[0].n);
    }

    it('answers 503 queue_unavailable quickly while Redis is down (also at API start), leaving nothing behind', async () => {
      const twin = (await aTwin(api, account)).uuid;
      const line = () => JSON.stringify({ twin, identity: aName() });
      await redis.down();
      const started = Date.now();
      const res = await api.post('/imports', { secret: account.secret, raw: line(), headers: NDJSON });
      expect(Date.now() - started).toBeLessThan(10_000);
      expectErrorShape(res, 503, 'queue_unavailable');
      expect(res.headers.get('retry-after')).toBeTruthy();

      // An API started while Redis is down.
      const late = await TestApi.start({ ...api.config }, { migrate: false });
      try {
        const t0 = Date.now();
        const res2 = await late.post('/imports', { secret: account.secret, raw: line(), headers: NDJSON });
        expect(Date.now() - t0).toBeLessThan(10_000);
        expectErrorShape(res2, 503, 'queue_unavailable');
      } finally {
        await late.stop({ dropDatabase: false });
      }
      expect(await imports()).toBe(0);

      // Redis back: imports are accepted and merged.
      await redis.up();
      const ok = await waitFor(
        async () => {
          const r = await api.post<{ uuid: string }>('/imports', {
            secret: account.secret,
            raw: line(),
            headers: NDJSON,
          });
          return r.status === 202 ? r.body : undefined;
        },
        'an accepted import',
        30_000,
        500,
      );
      const worker = await startWorker(api.config);
      try {
        await waitFor(
          async () => {
            const r = await api.get<ImportReport>(`/imports/${ok.uuid}`, { secret: account.secret });
            return r.body.status === 'completed' ? r.body : undefined;
          },
          'the import after the outage',
          60_000,
        );
      } finally {
        await worker.close();
        await clearQueues(api.config);
      }
      expect(await imports()).toBe(1);
    }, 180_000);
  });
});
