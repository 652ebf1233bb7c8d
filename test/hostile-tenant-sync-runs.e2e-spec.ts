/**
 * Issue #20: a tenant's upstream tries to hold the sync workers forever — fresh cursors without end, a body that
 * trickles in, a source deleted or disabled mid-scan. Every run must end with a reason, a removed source's credential
 * must stop travelling within seconds, and another tenant's run must still get through. Each test failed on the code
 * before the fix (the scan stopped only on a repeated cursor and never looked at its source again).
 */
import { randomUUID } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import { type TestAccount, TestApi } from './support/test-app.js';
import { isolatedConfig } from './support/test-env.js';
import { EndlessUpstream, type EndlessPaging } from './upstream-simulator/hostile-upstream.js';
import { UpstreamSimulator } from './upstream-simulator/simulator.js';
import {
  clearQueues,
  FAST_SYNC,
  finishedRun,
  type RunReport,
  startRun,
  startWorker,
  waitFor,
} from './upstream-simulator/sync-harness.js';

const SLOW = 180_000;
/** Generous on a busy machine; on the code before the fix these runs never ended at all. */
const RUN_ENDS_WITHIN_MS = 90_000;

describe('hostile tenant: sync runs that never end (issue #20)', () => {
  let api: TestApi;
  let tenant: TestAccount;
  let bystander: TestAccount;
  let worker: INestApplicationContext | undefined;
  const upstreams: EndlessUpstream[] = [];

  beforeAll(async () => {
    api = await TestApi.start(isolatedConfig());
    tenant = await api.createAccount('hostile');
    bystander = await api.createAccount('bystander');
  }, SLOW);
  afterEach(async () => {
    // Upstreams first: a worker closing waits for its scans, and a dripping page must not hold it.
    for (const u of upstreams.splice(0)) await u.stop();
    await worker?.close();
    worker = undefined;
  }, SLOW);
  afterAll(async () => {
    await clearQueues(api.config);
    await api.stop();
  }, SLOW);

  /** A worker with the run limits of the test (the rest as every suite runs it). */
  const workerWith = async (limits: Record<string, number>, timeoutMs?: number) => {
    const config = { ...api.config, ...limits };
    const sync = timeoutMs
      ? { ...FAST_SYNC, callPolicy: { ...FAST_SYNC.callPolicy!, timeoutMs } }
      : FAST_SYNC;
    worker = await startWorker(config, sync);
  };

  const endless = async (paging: EndlessPaging) => {
    const upstream = await EndlessUpstream.start(paging);
    upstreams.push(upstream);
    return upstream;
  };

  const createSource = async (account: TestAccount, baseUrl: string, secret: string) => {
    const res = await api.post('/sync/sources', {
      secret: account.secret,
      body: { name: `src-${randomUUID().slice(0, 8)}`, base_url: baseUrl, secret },
    });
    expect(res.status).toBe(201);
    return res.body.uuid as string;
  };

  const reasons = (run: RunReport) => run.errors.map((e) => e.description).join('\n');

  it(
    'ends a run whose pages bring no new twin under ever-fresh cursors, failed with the reason',
    async () => {
      await workerWith({ SYNC_RUN_MAX_IDLE_PAGES: 3 });
      const upstream = await endless('same-twins');
      const source = await createSource(tenant, upstream.baseUrl, `cred-${randomUUID()}`);
      const run = await startRun(api, tenant.secret, source);
      const done = await finishedRun(api, tenant.secret, run.uuid, RUN_ENDS_WITHIN_MS);
      expect(done.status).toBe('failed');
      expect(reasons(done)).toMatch(/no new twins? in 3 pages/);
      // The first page brings its twins, then three pages bring nothing new.
      expect(upstream.requests.filter((r) => r.path === '/twins').length).toBe(4);
    },
    SLOW,
  );

  it(
    'ends a run of endless new twins at the page cap, failed with the reason',
    async () => {
      await workerWith({ SYNC_RUN_MAX_PAGES: 20 });
      const upstream = await endless('new-twins');
      const source = await createSource(tenant, upstream.baseUrl, `cred-${randomUUID()}`);
      const run = await startRun(api, tenant.secret, source);
      const done = await finishedRun(api, tenant.secret, run.uuid, RUN_ENDS_WITHIN_MS);
      expect(done.status).toBe('failed');
      expect(reasons(done)).toContain('20 pages');
      expect(done.counts.twins).toBe(20 * 50);
      expect(upstream.requests.filter((r) => r.path === '/twins').length).toBe(20);
    },
    SLOW,
  );

  it(
    'ends a run of endless new twins at the twin cap, failed with the reason',
    async () => {
      await workerWith({ SYNC_RUN_MAX_TWINS: 120 });
      const upstream = await endless('new-twins');
      const source = await createSource(tenant, upstream.baseUrl, `cred-${randomUUID()}`);
      const run = await startRun(api, tenant.secret, source);
      const done = await finishedRun(api, tenant.secret, run.uuid, RUN_ENDS_WITHIN_MS);
      expect(done.status).toBe('failed');
      expect(reasons(done)).toContain('120 twins');
      // Three pages of 50 reach the cap; no page is asked for after it.
      expect(upstream.requests.filter((r) => r.path === '/twins').length).toBe(3);
    },
    SLOW,
  );

  it(
    'cuts a dripping upstream at the run deadline, although every read is quick',
    async () => {
      // Per attempt 60 s (so the per-call timeout is not what ends it); the run as a whole has 4 s.
      await workerWith({ SYNC_RUN_DEADLINE_MS: 4_000 }, 60_000);
      const upstream = await endless('drip');
      const source = await createSource(tenant, upstream.baseUrl, `cred-${randomUUID()}`);
      const started = Date.now();
      const run = await startRun(api, tenant.secret, source);
      const done = await finishedRun(api, tenant.secret, run.uuid, RUN_ENDS_WITHIN_MS);
      const tookMs = Date.now() - started;
      expect(done.status).toBe('failed');
      expect(reasons(done)).toContain('deadline');
      // One page takes the drip ~50 s; the deadline (4 s) plus a busy machine's slack must end it well before.
      expect(tookMs).toBeLessThan(30_000);
    },
    SLOW,
  );

  for (const how of ['delete', 'disable'] as const) {
    it(
      `stops using the credential within seconds once the source is ${how}d mid-scan`,
      async () => {
        // Empty pages under fresh cursors, and no idle cap to speak of: only the source's removal may stop this scan.
        await workerWith({ SYNC_RUN_MAX_IDLE_PAGES: 1_000_000 });
        const upstream = await endless('empty');
        const credential = `cred-${randomUUID()}`;
        const source = await createSource(tenant, upstream.baseUrl, credential);
        const run = await startRun(api, tenant.secret, source);
        await waitFor(
          async () => (upstream.countSince(credential, 0) >= 10 ? true : undefined),
          'the scan to be under way',
        );
        const res =
          how === 'delete'
            ? await api.delete(`/sync/sources/${source}`, { secret: tenant.secret })
            : await api.patch(`/sync/sources/${source}`, { secret: tenant.secret, body: { enabled: false } });
        expect(res.status).toBeLessThan(300);
        // "Within seconds": 5 s for the scan and its queued twin jobs to notice (a busy machine), then silence.
        await new Promise((r) => setTimeout(r, 5_000));
        const quietFrom = Date.now();
        await new Promise((r) => setTimeout(r, 3_000));
        expect(upstream.countSince(credential, quietFrom)).toBe(0);
        if (how === 'disable') {
          const report = await finishedRun(api, tenant.secret, run.uuid, 10_000);
          expect(report.status).toBe('failed');
          expect(reasons(report)).toContain('disabled');
        }
      },
      SLOW,
    );
  }

  it(
    "completes another tenant's run while two endless sources exist",
    async () => {
      // Empty pages without end hold a scan slot each and queue no twin work: only the run deadline ends them. (An
      // endless source of *new* twins also floods the twin queue, which this test does not measure.)
      await workerWith({ SYNC_RUN_DEADLINE_MS: 5_000, SYNC_RUN_MAX_IDLE_PAGES: 1_000_000 });
      const sim = await UpstreamSimulator.start();
      try {
        for (let i = 0; i < 3; i++) sim.addTwin(bystander.account, { n: i });
        const hostile = await Promise.all([endless('empty'), endless('empty')]);
        const runs = [];
        for (const u of hostile) {
          const source = await createSource(tenant, u.baseUrl, `cred-${randomUUID()}`);
          runs.push(await startRun(api, tenant.secret, source));
        }
        // Both scan slots of the worker are taken by the endless sources before the bystander asks.
        await waitFor(
          async () => (hostile.every((u) => u.requests.length > 0) ? true : undefined),
          'both endless scans to start',
        );
        const mine = await createSource(bystander, sim.baseUrl, sim.addCredential(bystander.account));
        const run = await startRun(api, bystander.secret, mine);
        const done = await finishedRun(api, bystander.secret, run.uuid, RUN_ENDS_WITHIN_MS);
        expect(done.status).toBe('completed');
        expect(done.counts.twins).toBe(3);
        for (const r of runs) {
          const report = await finishedRun(api, tenant.secret, r.uuid, RUN_ENDS_WITHIN_MS);
          expect(report.status).toBe('failed');
          expect(reasons(report)).toContain('deadline');
        }
      } finally {
        await sim.stop();
      }
    },
    SLOW,
  );
});
