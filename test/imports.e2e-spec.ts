import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import type { INestApplicationContext } from '@nestjs/common';
import { Queue } from 'bullmq';
import { Pool } from 'pg';
import { mergeJobId } from '../libs/imports/import-producer.js';
import { bullConnection } from '../libs/queue/bull-connection.js';
import { JOBS } from '../libs/queue/job-catalogue.js';
import { aName, aTwin, expectStatus, resolve } from './support/factories.js';
import { expectErrorShape, TestApi, type TestAccount } from './support/test-app.js';
import { clearQueues, startWorker, waitFor } from './upstream-simulator/sync-harness.js';

interface ImportReport {
  uuid: string;
  status: 'queued' | 'running' | 'completed' | 'failed';
  progress: number;
  counts: { received: number; imported: number; changed: number; skipped: number };
  errors: Array<{ line: number; subcode: string; description: string }>;
  created_ts: number;
  finished_ts: number | null;
}

const NDJSON = { 'content-type': 'application/x-ndjson' };
const CSV = { 'content-type': 'text/csv' };

describe('Bulk imports', () => {
  let api: TestApi;
  let worker: INestApplicationContext;
  let pool: Pool;
  let alice: TestAccount;
  let bob: TestAccount;
  let twinA: string;
  let twinB: string;
  let bobsTwin: string;
  let mergeQueue: Queue;

  beforeAll(async () => {
    api = await TestApi.start();
    worker = await startWorker(api.config);
    pool = new Pool({ connectionString: api.config.DATABASE_URL, max: 2 });
    alice = await api.createAccount('alice');
    bob = await api.createAccount('bob');
    twinA = (await aTwin(api, alice)).uuid;
    twinB = (await aTwin(api, alice)).uuid;
    bobsTwin = (await aTwin(api, bob)).uuid;
    mergeQueue = new Queue(JOBS['import-merge'].queue, {
      connection: bullConnection(api.config),
      prefix: api.config.REDIS_PREFIX,
    });
  }, 60_000);

  afterAll(async () => {
    await mergeQueue.close();
    await worker.close();
    await pool.end();
    await clearQueues(api.config);
    await api.stop();
  }, 60_000);

  async function submit(secret: string, raw: string, headers = NDJSON): Promise<string> {
    const res = await api.post<{ uuid: string; status: string }>('/imports', { secret, raw, headers });
    expectStatus(res, 202);
    expect(res.body).toEqual({ uuid: res.body.uuid, status: 'queued' });
    return res.body.uuid;
  }

  async function finished(secret: string, id: string, timeoutMs = 30_000): Promise<ImportReport> {
    return waitFor(
      async () => {
        const res = await api.get<ImportReport>(`/imports/${id}`, { secret });
        expectStatus(res, 200);
        return res.body.status === 'completed' || res.body.status === 'failed' ? res.body : undefined;
      },
      `import ${id}`,
      timeoutMs,
    );
  }

  async function rows(owner: string, names: string[]): Promise<Array<Record<string, unknown>>> {
    const { rows: found } = await pool.query<Record<string, unknown>>(
      `SELECT name, twin, visibility, validity_ts FROM identities WHERE owner = $1 AND name = ANY($2) ORDER BY name, twin`,
      [owner, names],
    );
    return found;
  }

  const ndjson = (lines: unknown[]) =>
    lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n');

  it('lands an NDJSON import and reports it', async () => {
    const names = [aName(), aName(), aName()];
    const id = await submit(
      alice.secret,
      ndjson([
        { twin: twinA, identity: names[0], visibility: 'true' },
        { twin: twinB, identity: names[1], validity_ts: 4_000_000_000 },
        { twin: twinA, identity: names[2], visibility: null, validity_ts: null },
      ]) + '\n',
    );
    const report = await finished(alice.secret, id);
    expect(report).toEqual({
      uuid: id,
      status: 'completed',
      progress: 100,
      counts: { received: 3, imported: 3, changed: 3, skipped: 0 },
      errors: [],
      created_ts: expect.any(Number),
      finished_ts: expect.any(Number),
    });
    expect(report.finished_ts).toBeGreaterThanOrEqual(report.created_ts);
    expect(await rows(alice.account, names)).toHaveLength(3);
    const withRule = await rows(alice.account, [names[0]]);
    expect(withRule[0]).toMatchObject({ twin: twinA, visibility: 'true', validity_ts: null });

    const list = await api.get<{ imports: ImportReport[] }>('/imports', { secret: alice.secret });
    expectStatus(list, 200);
    expect(list.body.imports.map((i) => i.uuid)).toContain(id);
  });

  it('lands a CSV import (header is line 1, quoted fields)', async () => {
    const names = [aName(), aName(), aName()];
    const csv = [
      'twin,identity,visibility,validity_ts',
      `${twinA},${names[0]},,`,
      `${twinB},${names[1]},"USER.role == ""ops"" or true",4000000000`,
      `${twinA},${names[2]},not a rule (,`,
      `${twinA},BAD NAME,,`,
      `${twinA},${aName()},,yesterday`,
    ].join('\r\n');
    const id = await submit(alice.secret, csv, CSV);
    const report = await finished(alice.secret, id);
    expect(report.status).toBe('completed');
    expect(report.counts).toEqual({ received: 5, imported: 2, changed: 2, skipped: 3 });
    expect(report.errors.map((e) => [e.line, e.subcode])).toEqual([
      [4, 'invalid_rule'],
      [5, 'invalid_identity'],
      [6, 'invalid_timestamp'],
    ]);
    const landed = await rows(alice.account, names);
    expect(landed.map((r) => r.name)).toEqual([names[0], names[1]].sort());
    expect(landed.find((r) => r.name === names[1])).toMatchObject({
      visibility: 'USER.role == "ops" or true',
      validity_ts: 4_000_000_000,
    });
  });

  it('skips bad lines with their line numbers while good lines land', async () => {
    const good = [aName(), aName(), aName()];
    const body = [
      JSON.stringify({ twin: twinA, identity: good[0] }), // 1
      '{"twin": "not json', // 2
      '', // 3: blank, ignored
      JSON.stringify({ twin: twinA, identity: 'nohash' }), // 4
      JSON.stringify({ twin: twinA, identity: aName(), validity_ts: 'soon' }), // 5
      JSON.stringify({ twin: twinA, identity: aName(), visibility: '((' }), // 6
      JSON.stringify({ twin: randomUUID(), identity: aName() }), // 7: unknown twin
      JSON.stringify({ twin: bobsTwin, identity: aName() }), // 8: another account's twin
      JSON.stringify({ twin: 'abc', identity: aName() }), // 9
      JSON.stringify({ twin: twinB, identity: good[1] }), // 10
      '[1,2]', // 11
      JSON.stringify({ twin: twinB, identity: good[2], visibility: 'true' }), // 12 (no final newline)
    ].join('\n');
    const id = await submit(alice.secret, body);
    const report = await finished(alice.secret, id);
    expect(report.status).toBe('completed');
    expect(report.counts).toEqual({ received: 11, imported: 3, changed: 3, skipped: 8 });
    expect(report.errors.map((e) => [e.line, e.subcode])).toEqual([
      [2, 'invalid_json'],
      [4, 'invalid_identity'],
      [5, 'invalid_timestamp'],
      [6, 'invalid_rule'],
      [7, 'twin_not_found'],
      [8, 'twin_not_found'],
      [9, 'invalid_twin'],
      [11, 'invalid_json'],
    ]);
    for (const e of report.errors) expect(typeof e.description).toBe('string');
    expect((await rows(alice.account, good)).map((r) => r.name)).toEqual([...good].sort());
    const { rows: onBobsTwin } = await pool.query('SELECT 1 FROM identities WHERE twin = $1', [bobsTwin]);
    expect(onBobsTwin).toHaveLength(0);
  });

  it('re-importing the same file is idempotent', async () => {
    const names = Array.from({ length: 50 }, () => aName());
    const body = ndjson(
      names.map((name, k) => ({ twin: k % 2 ? twinA : twinB, identity: name, visibility: 'true' })),
    );
    const first = await finished(alice.secret, await submit(alice.secret, body));
    const before = await rows(alice.account, names);
    const second = await finished(alice.secret, await submit(alice.secret, body));
    // `imported` counts the good lines merged; `changed` the identities the import added or changed: none the
    // second time.
    expect(first.counts).toEqual({ received: 50, imported: 50, changed: 50, skipped: 0 });
    expect(second.counts).toEqual({ received: 50, imported: 50, changed: 0, skipped: 0 });
    const changedOnce = names.slice(0, 3).map((name, k) => ({ twin: k % 2 ? twinA : twinB, identity: name }));
    const third = await finished(alice.secret, await submit(alice.secret, ndjson(changedOnce)));
    expect(third.counts).toEqual({ received: 3, imported: 3, changed: 3, skipped: 0 });
    const after = await rows(alice.account, names);
    expect(after).toHaveLength(50);
    const unchanged = (list: Array<Record<string, unknown>>) =>
      list.filter((r) => !names.slice(0, 3).includes(r.name as string));
    expect(unchanged(after)).toEqual(unchanged(before));
    expect(after.filter((r) => r.visibility === null)).toHaveLength(3);
  });

  it("answers 404 for another account's import, and lists only the account's own", async () => {
    const id = await submit(alice.secret, ndjson([{ twin: twinA, identity: aName() }]));
    await finished(alice.secret, id);
    expectErrorShape(await api.get(`/imports/${id}`, { secret: bob.secret }), 404, 'not_found');
    expectErrorShape(await api.get(`/imports/${randomUUID()}`, { secret: alice.secret }), 404, 'not_found');
    expectErrorShape(await api.get('/imports/not-a-uuid', { secret: alice.secret }), 404, 'not_found');
    const bobs = await api.get<{ imports: ImportReport[] }>('/imports', { secret: bob.secret });
    expect(bobs.body.imports.map((i) => i.uuid)).not.toContain(id);
  });

  it('refuses a wrong content type (400) and an unauthenticated request (401)', async () => {
    const json = await api.post('/imports', {
      secret: alice.secret,
      body: { twin: twinA, identity: aName() },
    });
    expectErrorShape(json, 400);
    const xml = await api.post('/imports', {
      secret: alice.secret,
      raw: '<x/>',
      headers: { 'content-type': 'application/xml' },
    });
    expectErrorShape(xml, 400);
    const anonymous = await api.post('/imports', { raw: '{}', headers: NDJSON });
    expectErrorShape(anonymous, 401);
  });

  it('answers 413 for a body declared over 1 GiB', async () => {
    const url = new URL('/imports', api.baseUrl);
    const status = await new Promise<number>((done, fail) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          headers: {
            authorization: alice.secret,
            'content-type': 'application/x-ndjson',
            'content-length': String(1024 * 1024 * 1024 + 1),
          },
        },
        (res) => {
          res.resume();
          done(res.statusCode ?? 0);
          req.destroy();
        },
      );
      req.on('error', fail);
      req.write('{}\n');
    });
    expect(status).toBe(413);
  });

  it('merges a body of many batches, reporting line numbers across them', async () => {
    const prefix = `LOT#${randomUUID().slice(0, 8)}`;
    const lines: string[] = [];
    for (let k = 1; k <= 25_000; k++) {
      lines.push(
        k === 17_321
          ? '{oops'
          : JSON.stringify({ twin: k % 2 ? twinA : twinB, identity: `${prefix}-${k}`, visibility: 'true' }),
      );
    }
    const id = await submit(alice.secret, lines.join('\n') + '\n');
    const report = await finished(alice.secret, id, 60_000);
    // The job's progress (what the /queues dashboard shows) is a percentage, not a count of rows. The report is
    // marked completed a moment before the job's last progress and its completion are written: wait for those.
    let job = await mergeQueue.getJob(mergeJobId(id));
    for (const deadline = Date.now() + 15_000; !job?.finishedOn && Date.now() < deadline;) {
      await new Promise((r) => setTimeout(r, 50));
      job = await mergeQueue.getJob(mergeJobId(id));
    }
    expect(job?.finishedOn).toBeGreaterThan(0);
    expect(job?.progress).toBe(100);
    expect(report.counts).toEqual({ received: 25_000, imported: 24_999, changed: 24_999, skipped: 1 });
    expect(report.errors).toEqual([expect.objectContaining({ line: 17_321, subcode: 'invalid_json' })]);
    const { rows: count } = await pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM identities WHERE owner = $1 AND name LIKE $2`,
      [alice.account, `${prefix}-%`],
    );
    expect(Number(count[0].n)).toBe(24_999);
  }, 90_000);

  it('refuses a CSV import without its header before accepting it (400)', async () => {
    const res = await api.post('/imports', {
      secret: alice.secret,
      raw: `${twinA},${aName()},,\n`,
      headers: CSV,
    });
    expectErrorShape(res, 400, 'invalid_csv_header');
  });

  it('resolve sees imported identities', async () => {
    const name = aName();
    // Resolved (and cached as unknown) before the import: the merge's commit must evict it.
    expect(await resolve(api, alice, name)).toEqual([]);
    await finished(
      alice.secret,
      await submit(alice.secret, ndjson([{ twin: twinA, identity: name, visibility: 'true' }])),
    );
    expect(await resolve(api, alice, name)).toEqual([twinA]);
  });
});
