/**
 * Issue #20: a hostile (or broken) upstream answers with more than anyone should read, or with names and rules the
 * API and imports refuse. Each test is one attack; each failed on the code before the fix.
 */
import { readFileSync } from 'node:fs';
import type { INestApplicationContext } from '@nestjs/common';
import { Client } from 'pg';
import { type TestAccount, TestApi } from './support/test-app.js';
import { isolatedConfig } from './support/test-env.js';
import { HugePageUpstream } from './upstream-simulator/hostile-upstream.js';
import { UpstreamSimulator } from './upstream-simulator/simulator.js';
import { clearQueues, startWorker, syncAndWait, waitFor } from './upstream-simulator/sync-harness.js';
import { WorkerProcess } from './upstream-simulator/worker-process.js';

const SLOW = 180_000;
const MiB = 1024 * 1024;
const LIMITS = {
  SYNC_MAX_PAGE_BYTES: String(MiB),
  SYNC_MAX_IDENTITY_LIST_BYTES: String(MiB),
  SYNC_MAX_IDENTITIES_PER_TWIN: '1000',
};

describe('hostile upstream: oversized and invalid answers', () => {
  let api: TestApi;
  let worker: INestApplicationContext | undefined;
  let db: Client;
  let tenant: TestAccount;

  beforeAll(async () => {
    api = await TestApi.start(isolatedConfig(LIMITS));
    db = new Client({ connectionString: api.config.DATABASE_URL });
    await db.connect();
    tenant = await api.createAccount('tenant');
    worker = await startWorker(api.config);
  }, SLOW);
  afterAll(async () => {
    await worker?.close();
    await clearQueues(api.config);
    await db.end();
    await api.stop();
  }, SLOW);

  const createSource = async (baseUrl: string, secret: string) => {
    const res = await api.post('/sync/sources', {
      secret: tenant.secret,
      body: { name: `src-${Math.random().toString(36).slice(2, 10)}`, base_url: baseUrl, secret },
    });
    expect(res.status).toBe(201);
    return res.body.uuid as string;
  };
  const namesOf = async (twin: string) =>
    (
      await db.query<{ name: string }>(`SELECT name FROM identities WHERE twin = $1 ORDER BY name`, [twin])
    ).rows.map((r) => r.name);

  it(
    'a scan page over SYNC_MAX_PAGE_BYTES fails the run with the reason, and is not read further',
    async () => {
      // 5 MiB against a 1 MiB limit: before, the page was read whole and its twin synced as if nothing were wrong.
      const upstream = await HugePageUpstream.start(tenant.account, 5 * MiB);
      try {
        const source = await createSource(upstream.baseUrl, 'any');
        const run = await syncAndWait(api, tenant.secret, source);
        expect(run.status).toBe('failed');
        expect(run.errors.map((e) => e.description).join('\n')).toContain(
          `answer larger than ${MiB} bytes (SYNC_MAX_PAGE_BYTES)`,
        );
        expect(run.counts.twins).toBe(0);
        // Refused for good: not asked again and again.
        expect(upstream.sent.requests).toBe(1);
        expect(upstream.sent.cutShort).toBe(true);
      } finally {
        await upstream.stop();
      }
    },
    SLOW,
  );

  it(
    'a twin with more identities than SYNC_MAX_IDENTITIES_PER_TWIN fails with the reason; other twins sync',
    async () => {
      const sim = await UpstreamSimulator.start();
      try {
        const crowded = sim.addTwin(tenant.account);
        for (let i = 0; i <= 1000; i++) sim.setIdentity(crowded.uuid, tenant.account, `RFID#crowd${i}`);
        const fine = sim.addTwin(tenant.account);
        sim.setIdentity(fine.uuid, tenant.account, 'RFID#fine');
        await sim.settle();
        const run = await syncAndWait(
          api,
          tenant.secret,
          await createSource(sim.baseUrl, sim.addCredential(tenant.account)),
        );
        expect(run.status).toBe('completed');
        expect(run.counts).toMatchObject({ twins: 2, failed: 1 });
        const reasons = run.errors.filter((e) => e.twin === crowded.uuid).map((e) => e.description);
        expect(reasons.join('\n')).toContain('1001 identities, more than the 1000');
        expect(await namesOf(crowded.uuid)).toEqual([]);
        expect(await namesOf(fine.uuid)).toEqual(['RFID#fine']);
      } finally {
        await sim.stop();
      }
    },
    SLOW,
  );

  it(
    'a NUL or lone surrogate in upstream names skips those names only: the valid ones land, no retry storm',
    async () => {
      const sim = await UpstreamSimulator.start();
      try {
        const twin = sim.addTwin(tenant.account);
        sim.setIdentity(twin.uuid, tenant.account, 'RFID#good1');
        sim.setIdentity(twin.uuid, tenant.account, 'RFID#n\u0000ul');
        sim.setIdentity(twin.uuid, tenant.account, 'RFID#lone\ud800');
        sim.setIdentity(twin.uuid, tenant.account, 'RFID#good2');
        await sim.settle();
        const started = Date.now();
        const run = await syncAndWait(
          api,
          tenant.secret,
          await createSource(sim.baseUrl, sim.addCredential(tenant.account)),
        );
        const took = Date.now() - started;
        expect(run.status).toBe('completed');
        expect(run.counts).toMatchObject({ twins: 1, failed: 0, retries: 0 });
        expect(await namesOf(twin.uuid)).toEqual(['RFID#good1', 'RFID#good2']);
        const reasons = run.errors.map((e) => e.description).join('\n');
        // Reported, spelled in escapes (the raw characters could not be stored in the report either).
        expect(reasons).toContain('identity "RFID#n\\u0000ul"');
        expect(reasons).toContain('NUL character');
        expect(reasons).toContain('identity "RFID#lone\\ud800"');
        expect(reasons).toContain('lone UTF-16 surrogate');
        // One attempt, no backoff: generous for a busy machine, far below a retry storm (~86 s before).
        expect(took).toBeLessThan(30_000);
      } finally {
        await sim.stop();
      }
    },
    SLOW,
  );

  it(
    'a 70,000-character rule and an unparsable rule are not stored: their identities are skipped and reported',
    async () => {
      const sim = await UpstreamSimulator.start();
      try {
        const twin = sim.addTwin(tenant.account);
        sim.setIdentity(twin.uuid, tenant.account, 'RFID#ok', { visibility: 'true' });
        sim.setIdentity(twin.uuid, tenant.account, 'RFID#long', { visibility: 'x'.repeat(70_000) });
        sim.setIdentity(twin.uuid, tenant.account, 'RFID#broken', { visibility: '(1 ==' });
        await sim.settle();
        const run = await syncAndWait(
          api,
          tenant.secret,
          await createSource(sim.baseUrl, sim.addCredential(tenant.account)),
        );
        expect(run.status).toBe('completed');
        expect(run.counts).toMatchObject({ twins: 1, failed: 0 });
        const rows = await db.query<{ name: string; visibility: string | null }>(
          `SELECT name, visibility FROM identities WHERE twin = $1`,
          [twin.uuid],
        );
        // Names and rule lengths only: a failure message must not print a 70,000-character rule.
        expect(rows.rows.map((r) => `${r.name} ${r.visibility?.length}`)).toEqual(['RFID#ok 4']);
        const reasons = run.errors.map((e) => e.description).join('\n');
        expect(reasons).toContain('identity "RFID#long"');
        expect(reasons).toContain('rule longer than 2048 characters');
        expect(reasons).toContain('identity "RFID#broken"');
        // The report never echoes the rule itself.
        expect(reasons).not.toContain('x'.repeat(100));
      } finally {
        await sim.stop();
      }
    },
    SLOW,
  );
});

/** Peak resident memory of a process (VmHWM), in bytes. */
function peakRss(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmHWM:'));
  if (!line) throw new Error(`no VmHWM for ${pid}`);
  return Number(line.replace(/\D+/g, '')) * 1024;
}

describe('hostile upstream: a huge page does not grow the worker', () => {
  let api: TestApi;
  let worker: WorkerProcess | undefined;
  let tenant: TestAccount;

  beforeAll(async () => {
    api = await TestApi.start(isolatedConfig(LIMITS));
    tenant = await api.createAccount('tenant');
  }, SLOW);
  afterAll(async () => {
    if (worker && worker.child.exitCode === null) {
      worker.kill('SIGKILL');
      await worker.exited;
    }
    await clearQueues(api.config);
    await api.stop();
  }, SLOW);

  it(
    'a 256 MiB page against a 1 MiB limit: the worker peak RSS grows far less than the body',
    async () => {
      const BODY = 256 * MiB;
      const upstream = await HugePageUpstream.start(tenant.account, BODY);
      try {
        worker = await WorkerProcess.start(api.config, LIMITS);
        const pid = worker.child.pid as number;
        const res = await api.post('/sync/sources', {
          secret: tenant.secret,
          body: { name: 'huge', base_url: upstream.baseUrl, secret: 'any' },
        });
        expect(res.status).toBe(201);
        // Let start-up allocations settle before taking the baseline: the worker's peak stops moving for a second
        // (a fixed second was not enough on a busy machine, where start-up work — ledger recounts, the outbox
        // listener — still ran and its growth was counted against the page).
        let before = peakRss(pid);
        for (let i = 0; i < 20; i++) {
          await new Promise((r) => setTimeout(r, 1000));
          const now = peakRss(pid);
          if (now === before) break;
          before = now;
        }
        const run = await syncAndWait(api, tenant.secret, res.body.uuid, 'full', 120_000);
        const grown = peakRss(pid) - before;
        // Reported for the lead: what one oversized page costs the worker.
        console.info(`worker peak RSS grew ${(grown / MiB).toFixed(1)} MiB for a ${BODY / MiB} MiB page`);
        expect(run.status).toBe('failed');
        expect(run.errors.map((e) => e.description).join('\n')).toContain('SYNC_MAX_PAGE_BYTES');
        // Reading the body would grow the worker by more than the body (the text, then what it parses to); reading
        // a quarter of it would exceed this. What a bounded read costs is mostly the first run's own warm-up (code
        // compiled, connections, buffers): 28–37 MiB measured, with the 1 MiB limit.
        expect(grown).toBeLessThan(BODY / 4);
        await waitFor(async () => (upstream.sent.cutShort ? true : undefined), 'the upstream to be cut off');
        expect(upstream.sent.bytes).toBeLessThan(BODY / 2);
      } finally {
        await upstream.stop();
      }
    },
    SLOW,
  );
});
