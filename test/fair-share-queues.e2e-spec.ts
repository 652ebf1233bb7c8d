/**
 * Issue #21, fair shares of the job queues (docs/sync.md "Fair shares", docs/imports.md "Fair shares"): a busy
 * account's backlog delays a quiet account's job by about one job, not by the backlog; the caps answer 429 with
 * Retry-After and change nothing; a worker that dies between a job's end and its bookkeeping leaks no count.
 * Order is measured in jobs served before the quiet account's one, never in wall time.
 */
import { randomUUID } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import { type Job, Queue, Worker } from 'bullmq';
import { bullConnection } from '../libs/queue/bull-connection.js';
import { QUEUES } from '../libs/queue/job-catalogue.js';
import { aTwin } from './support/factories.js';
import { expectErrorShape, type TestAccount, TestApi } from './support/test-app.js';
import { isolatedConfig } from './support/test-env.js';
import { clearQueues, startWorker, waitFor } from './upstream-simulator/sync-harness.js';

const SLOW = 120_000;
const NDJSON = { 'content-type': 'application/x-ndjson' };

const aSource = () => ({
  name: `src-${randomUUID().slice(0, 8)}`,
  base_url: 'https://upstream.example/api',
  secret: 'upstream-user-secret-123',
});

async function createSource(api: TestApi, who: TestAccount): Promise<{ uuid: string; token: string }> {
  const res = await api.post('/sync/sources', { secret: who.secret, body: aSource() });
  expect(res.status).toBe(201);
  return { uuid: res.body.uuid, token: res.body.webhook_token };
}

function webhook(api: TestApi, source: { uuid: string; token: string }, twins: string[]) {
  return api.post(`/sync/sources/${source.uuid}/webhook`, {
    headers: { 'x-webhook-token': source.token },
    body: twins.map((twin) => ({ event: 'twin_updated', twin })),
  });
}

/**
 * Takes jobs one at a time and records whose they were, until `done` says stop; answers the accounts in the order
 * served. Stands in for the worker: the order is the queue's doing, not the processor's.
 */
async function serveInOrder<T>(
  api: TestApi,
  queue: string,
  accountOf: (job: Job) => T,
  done: (served: T[]) => boolean,
): Promise<T[]> {
  const served: T[] = [];
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const worker = new Worker(
    queue,
    async (job) => {
      served.push(accountOf(job));
      if (done(served)) finish();
    },
    { connection: bullConnection(api.config), prefix: api.config.REDIS_PREFIX, concurrency: 1 },
  );
  try {
    await Promise.race([
      finished,
      new Promise((_, reject) => setTimeout(() => reject(new Error('not served in time')), 60_000)),
    ]);
  } finally {
    await worker.close(true);
  }
  return served;
}

describe('fair shares: the order of the queues', () => {
  let api: TestApi;
  let busy: TestAccount;
  let quiet: TestAccount;

  beforeAll(async () => {
    api = await TestApi.start();
    busy = await api.createAccount('busy');
    quiet = await api.createAccount('quiet');
  }, SLOW);
  afterAll(async () => {
    await clearQueues(api.config);
    await api.stop();
  }, SLOW);

  it(
    "serves a quiet account's one sync-twin job after a few of a busy account's thousands, not after all of them",
    async () => {
      const x = await createSource(api, busy);
      const y = await createSource(api, quiet);
      // Six events of 500 twins each (a webhook body stays within the API's 64 KiB).
      for (let i = 0; i < 6; i++) {
        const res = await webhook(
          api,
          x,
          Array.from({ length: 500 }, () => randomUUID()),
        );
        expect(res.status).toBe(202);
      }
      const quietTwin = randomUUID();
      expect((await webhook(api, y, [quietTwin])).status).toBe(202);
      // Past the webhook debounce, so every job is due when the worker starts.
      await new Promise((r) => setTimeout(r, 1_000));

      const served = await serveInOrder(
        api,
        QUEUES.syncTwins,
        (job) => (job.data as { account: string }).account,
        (s) => s.includes(quiet.account),
      );
      const before = served.indexOf(quiet.account);
      console.log(`sync-twin: ${before} of the busy account's 3000 jobs served before the quiet one`);
      // Due delayed jobs are promoted 1,000 at a time, oldest first: about one busy job per thousand queued.
      expect(before).toBeLessThanOrEqual(10);
    },
    SLOW,
  );

  it(
    "merges a quiet account's import right after a busy account's first one, not after its whole queue",
    async () => {
      const twin = (await aTwin(api, busy)).uuid;
      const quietTwin = (await aTwin(api, quiet)).uuid;
      const line = (t: string) => `${JSON.stringify({ twin: t, identity: `id#${randomUUID()}` })}\n`;
      for (let i = 0; i < 6; i++) {
        const res = await api.post('/imports', { secret: busy.secret, raw: line(twin), headers: NDJSON });
        expect(res.status).toBe(202);
      }
      const mine = await api.post('/imports', {
        secret: quiet.secret,
        raw: line(quietTwin),
        headers: NDJSON,
      });
      expect(mine.status).toBe(202);
      const served = await serveInOrder(
        api,
        QUEUES.imports,
        (job) => (job.data as { importId: string }).importId,
        (s) => s.includes(mine.body.uuid),
      );
      const before = served.indexOf(mine.body.uuid);
      console.log(`imports: ${before} of the busy account's 6 merges served before the quiet one`);
      expect(before).toBeLessThanOrEqual(1);
    },
    SLOW,
  );
});

describe('fair shares: the caps', () => {
  let api: TestApi;
  let worker: INestApplicationContext | undefined;
  let busy: TestAccount;
  let quiet: TestAccount;
  let twinJobs: Queue;

  beforeAll(async () => {
    api = await TestApi.start(
      isolatedConfig({
        SYNC_PENDING_PER_SOURCE: '5',
        SYNC_PENDING_PER_ACCOUNT: '8',
        SYNC_BACKLOG_WAIT_MS: '3000',
        IMPORT_QUEUED_PER_ACCOUNT: '2',
        IMPORT_STAGED_ROWS_PER_ACCOUNT: '10',
      }),
    );
    busy = await api.createAccount('busy');
    quiet = await api.createAccount('quiet');
    twinJobs = new Queue(QUEUES.syncTwins, {
      connection: bullConnection(api.config),
      prefix: api.config.REDIS_PREFIX,
    });
  }, SLOW);
  afterAll(async () => {
    await worker?.close();
    await twinJobs.close();
    await clearQueues(api.config);
    await api.stop();
  }, SLOW);

  const pendingOf = async (source: string) =>
    (await twinJobs.getJobs(['delayed', 'waiting', 'prioritized', 'active'])).filter(
      (j) => j.data.sourceId === source,
    ).length;

  it(
    'refuses webhook events beyond the pending caps with 429 and Retry-After, and queues nothing of them',
    async () => {
      const x = await createSource(api, busy);
      const twins = Array.from({ length: 5 }, () => randomUUID());
      expect((await webhook(api, x, twins)).status).toBe(202);

      const over = await webhook(api, x, [randomUUID(), randomUUID()]);
      expectErrorShape(over, 429, 'backlog_full');
      expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(await pendingOf(x.uuid)).toBe(5);

      // A twin already pending coalesces into its job, at the cap as below it.
      const again = await webhook(api, x, [twins[0], twins[1]]);
      expect(again.status).toBe(202);
      expect(await pendingOf(x.uuid)).toBe(5);

      // The account's cap spans its sources: 8 in all.
      const x2 = await createSource(api, busy);
      expect((await webhook(api, x2, [randomUUID(), randomUUID(), randomUUID()])).status).toBe(202);
      expectErrorShape(await webhook(api, x2, [randomUUID()]), 429, 'backlog_full');
      expect(await pendingOf(x2.uuid)).toBe(3);

      // Another account is not held to the busy one's backlog.
      const y = await createSource(api, quiet);
      expect((await webhook(api, y, [randomUUID()])).status).toBe(202);
    },
    SLOW,
  );

  it(
    'refuses an import beyond the queued-per-account cap and beyond the staged-rows cap with 429, storing nothing',
    async () => {
      const twin = (await aTwin(api, busy)).uuid;
      const lines = (n: number) =>
        Array.from({ length: n }, () => JSON.stringify({ twin, identity: `id#${randomUUID()}` })).join('\n');
      const list = async (who: TestAccount) =>
        (await api.get<{ imports: unknown[] }>('/imports', { secret: who.secret })).body.imports.length;

      expect(
        (await api.post('/imports', { secret: busy.secret, raw: lines(1), headers: NDJSON })).status,
      ).toBe(202);
      expect(
        (await api.post('/imports', { secret: busy.secret, raw: lines(1), headers: NDJSON })).status,
      ).toBe(202);
      const third = await api.post('/imports', { secret: busy.secret, raw: lines(1), headers: NDJSON });
      expectErrorShape(third, 429, 'backlog_full');
      expect(Number(third.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(await list(busy)).toBe(2);

      // Staged rows: 6 waiting, 6 more would pass the account's 10.
      const quietTwin = (await aTwin(api, quiet)).uuid;
      const quietLines = (n: number) =>
        Array.from({ length: n }, () =>
          JSON.stringify({ twin: quietTwin, identity: `id#${randomUUID()}` }),
        ).join('\n');
      expect(
        (await api.post('/imports', { secret: quiet.secret, raw: quietLines(6), headers: NDJSON })).status,
      ).toBe(202);
      const staged = await api.post('/imports', {
        secret: quiet.secret,
        raw: quietLines(6),
        headers: NDJSON,
      });
      expectErrorShape(staged, 429, 'staging_full');
      expect(Number(staged.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(await list(quiet)).toBe(1);

      // Once the worker merges them, the account may queue again: finished merges give their places back.
      worker = await startWorker(api.config);
      await waitFor(
        async () => {
          const res = await api.post('/imports', { secret: busy.secret, raw: lines(1), headers: NDJSON });
          return res.status === 202 ? res : undefined;
        },
        'a place in the import queue',
        60_000,
        500,
      );
    },
    SLOW,
  );
});

describe('fair shares: crash safety and idempotence', () => {
  let api: TestApi;
  let worker: INestApplicationContext | undefined;
  let busy: TestAccount;
  let twinJobs: Queue;

  beforeAll(async () => {
    api = await TestApi.start(isolatedConfig({ SYNC_PENDING_PER_SOURCE: '5' }));
    busy = await api.createAccount('busy');
    twinJobs = new Queue(QUEUES.syncTwins, {
      connection: bullConnection(api.config),
      prefix: api.config.REDIS_PREFIX,
    });
  }, SLOW);
  afterAll(async () => {
    await worker?.close();
    await twinJobs.close();
    await clearQueues(api.config);
    await api.stop();
  }, SLOW);

  it(
    'keeps one pending job per twin however many events name it, counted once',
    async () => {
      const x = await createSource(api, busy);
      const twin = randomUUID();
      for (let i = 0; i < 10; i++)
        expect((await webhook(api, x, [twin, twin.toUpperCase()])).status).toBe(202);
      const jobs = (await twinJobs.getJobs(['delayed', 'waiting', 'prioritized'])).filter(
        (j) => j.data.sourceId === x.uuid,
      );
      expect(jobs).toHaveLength(1);
      expect(jobs[0].data).toEqual({ sourceId: x.uuid, account: busy.account, twin });
      expect(jobs[0].opts.priority).toBeGreaterThanOrEqual(1);
      // Counted once: four more twins still fit under the source's cap of 5, a fifth does not.
      expect(
        (
          await webhook(
            api,
            x,
            Array.from({ length: 4 }, () => randomUUID()),
          )
        ).status,
      ).toBe(202);
      expect((await webhook(api, x, [randomUUID()])).status).toBe(429);
    },
    SLOW,
  );

  it(
    'repairs the counts of jobs a worker finished but died before settling, so the cap does not hold for good',
    async () => {
      const x = await createSource(api, busy);
      expect(
        (
          await webhook(
            api,
            x,
            Array.from({ length: 5 }, () => randomUUID()),
          )
        ).status,
      ).toBe(202);
      expect((await webhook(api, x, [randomUUID()])).status).toBe(429);
      await new Promise((r) => setTimeout(r, 700));

      // A worker that ends every job and dies before its bookkeeping: the jobs are gone, the counts stay.
      let ended = 0;
      const crashing = new Worker(QUEUES.syncTwins, async () => void ended++, {
        connection: bullConnection(api.config),
        prefix: api.config.REDIS_PREFIX,
        concurrency: 5,
      });
      await waitFor(async () => {
        const counts = await twinJobs.getJobCounts('prioritized', 'waiting', 'delayed', 'active');
        return ended >= 5 && Object.values(counts).every((n) => n === 0) ? true : undefined;
      }, 'the crashing worker to end the jobs');
      await crashing.close(true);
      expect((await webhook(api, x, [randomUUID()])).status).toBe(429);

      // A worker starting up repairs the counts from the queue itself.
      await twinJobs.pause();
      worker = await startWorker(api.config);
      await waitFor(
        async () => ((await webhook(api, x, [randomUUID()])).status === 202 ? true : undefined),
        'the counts to be repaired',
        30_000,
        250,
      );
    },
    SLOW,
  );
});

describe('fair shares: scheduled runs', () => {
  let api: TestApi;
  let worker: INestApplicationContext | undefined;
  let scans: Queue;

  beforeAll(async () => {
    api = await TestApi.start();
    scans = new Queue(QUEUES.sync, {
      connection: bullConnection(api.config),
      prefix: api.config.REDIS_PREFIX,
    });
  }, SLOW);
  afterAll(async () => {
    await worker?.close();
    await scans.close();
    await clearQueues(api.config);
    await api.stop();
  }, SLOW);

  it(
    'rewrites a scheduler from before fair shares, so its runs do not jump every prioritised job',
    async () => {
      const owner = await api.createAccount('scheduled');
      const res = await api.post('/sync/sources', {
        secret: owner.secret,
        body: { ...aSource(), schedule: '0 0 1 1 *' },
      });
      expect(res.status).toBe(201);
      const id = `sync-source.${res.body.uuid}`;
      // As an older release left it: the same pattern and payload, no priority.
      await scans.upsertJobScheduler(
        id,
        { pattern: '0 0 1 1 *' },
        {
          name: 'sync-source',
          data: { sourceId: res.body.uuid, account: owner.account, runId: null, mode: 'full' },
        },
      );
      expect((await scans.getJobScheduler(id))?.template?.opts?.priority ?? 0).toBe(0);
      worker = await startWorker(api.config);
      await waitFor(
        async () =>
          ((await scans.getJobScheduler(id))?.template?.opts?.priority ?? 0) >= 1 ? true : undefined,
        'the scheduler to be rewritten with a priority',
        30_000,
      );
    },
    SLOW,
  );
});
