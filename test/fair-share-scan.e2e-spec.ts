/**
 * Issue #21: a scan does not flood the twin queue (docs/sync.md "Fair shares"). While its source has
 * SYNC_PENDING_PER_SOURCE twin jobs pending it fetches no further page and waits SYNC_BACKLOG_WAIT_MS at a time,
 * off the worker's slots; it still ends, by completing once the backlog drains or by its run's deadline.
 */
import { Queue } from 'bullmq';
import { bullConnection } from '../libs/queue/bull-connection.js';
import { QUEUES } from '../libs/queue/job-catalogue.js';
import { type TestAccount, TestApi } from './support/test-app.js';
import { isolatedConfig } from './support/test-env.js';
import { UpstreamSimulator } from './upstream-simulator/simulator.js';
import {
  clearQueues,
  finishedRun,
  type RunReport,
  startRun,
  startWorker,
  waitFor,
} from './upstream-simulator/sync-harness.js';

const SLOW = 120_000;
const CAP = 60;
/** FAST_SYNC's page size: the scan may overshoot its cap by at most one page. */
const PAGE = 50;
const PENDING = ['waiting', 'prioritized', 'delayed', 'active'] as const;

async function stage(overrides: Record<string, string>, twins: number) {
  const api = await TestApi.start(
    isolatedConfig({ SYNC_PENDING_PER_SOURCE: String(CAP), SYNC_BACKLOG_WAIT_MS: '300', ...overrides }),
  );
  const acme: TestAccount = await api.createAccount('acme');
  const sim = await UpstreamSimulator.start();
  for (let t = 0; t < twins; t++) sim.addTwin(acme.account, { n: t });
  await sim.settle();
  const res = await api.post('/sync/sources', {
    secret: acme.secret,
    body: { name: 'sim', base_url: sim.baseUrl, secret: sim.addCredential(acme.account), max_rate: 2000 },
  });
  expect(res.status).toBe(201);
  const twinJobs = new Queue(QUEUES.syncTwins, {
    connection: bullConnection(api.config),
    prefix: api.config.REDIS_PREFIX,
  });
  // No twin job is taken until the test says so: the backlog stays as the scan left it.
  await twinJobs.pause();
  const worker = await startWorker(api.config);
  const pending = async () => {
    const counts = await twinJobs.getJobCounts(...PENDING);
    return Object.values(counts).reduce((a, b) => a + b, 0);
  };
  const stop = async () => {
    await worker.close();
    await twinJobs.close();
    await sim.stop();
    await clearQueues(api.config);
    await api.stop();
  };
  return { api, acme, source: res.body.uuid as string, twinJobs, pending, stop };
}

describe('fair shares: a scan waits for its backlog', () => {
  let env: Awaited<ReturnType<typeof stage>>;

  beforeAll(async () => {
    env = await stage({}, 400);
  }, SLOW);
  afterAll(async () => env?.stop(), SLOW);

  it(
    'queues at most a page past its source cap, waits while the backlog is full, and completes once it drains',
    async () => {
      const { api, acme, source, twinJobs, pending } = env;
      const run = await startRun(api, acme.secret, source);
      await waitFor(async () => ((await pending()) >= CAP ? true : undefined), 'the backlog to fill');
      // Several backlog waits long: the scan has had time to flood, and must not have.
      await new Promise((r) => setTimeout(r, 2_000));
      const held = await pending();
      const report = (await api.get<RunReport>(`/sync/runs/${run.uuid}`, { secret: acme.secret })).body;
      console.log(`scan over its cap: ${held} twin jobs pending of 400 (cap ${CAP}, page ${PAGE})`);
      expect(held).toBeLessThanOrEqual(CAP + PAGE);
      expect(report.status).toBe('running');

      await twinJobs.resume();
      const done = await finishedRun(api, acme.secret, run.uuid, 90_000);
      expect(done.status).toBe('completed');
      expect(done.counts.twins).toBe(400);
    },
    SLOW,
  );
});

describe('fair shares: a scan waiting for its backlog still ends', () => {
  let env: Awaited<ReturnType<typeof stage>>;

  beforeAll(async () => {
    env = await stage({ SYNC_RUN_DEADLINE_MS: '3000' }, 200);
  }, SLOW);
  afterAll(async () => env?.stop(), SLOW);

  it(
    'fails at its deadline when the backlog never drains',
    async () => {
      const { api, acme, source, pending } = env;
      const run = await startRun(api, acme.secret, source);
      const done = await finishedRun(api, acme.secret, run.uuid, 60_000);
      expect(done.status).toBe('failed');
      expect(JSON.stringify(done.errors)).toContain('deadline');
      expect(await pending()).toBeLessThanOrEqual(CAP + PAGE);
    },
    SLOW,
  );
});
