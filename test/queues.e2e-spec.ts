import { Queue } from 'bullmq';
import { bullConnection } from '../libs/queue/bull-connection.js';
import { QUEUES } from '../libs/queue/job-catalogue.js';
import { type TestAccount, TestApi } from './support/test-app.js';
import { isolatedConfig } from './support/test-env.js';

const sample = (text: string, name: string, labels: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
};

/** docs/operations.md "Metrics": queue depths on /metrics, read at scrape time, and a scrape that survives Redis. */
describe('queue metrics', () => {
  let api: TestApi;
  let alice: TestAccount;
  let scans: Queue;

  beforeAll(async () => {
    api = await TestApi.start();
    alice = await api.createAccount('alice');
    scans = new Queue(QUEUES.sync, {
      connection: bullConnection(api.config),
      prefix: api.config.REDIS_PREFIX,
    });
  }, 60_000);
  afterAll(async () => {
    await scans.obliterate({ force: true });
    await scans.close();
    await api.stop();
  }, 60_000);

  it('reports each queue depth per state, and a queued run moves the sync queue', async () => {
    const before = await api.get('/metrics');
    expect(before.status).toBe(200);
    expect(before.text).toContain('# TYPE twindex_queue_jobs gauge');
    for (const queue of [QUEUES.sync, QUEUES.syncTwins]) {
      expect(sample(before.text, 'twindex_queue_up', `queue="${queue}"`)).toBe(1);
      for (const state of ['waiting', 'prioritized', 'active', 'delayed', 'failed', 'completed']) {
        expect(sample(before.text, 'twindex_queue_jobs', `queue="${queue}",state="${state}"`)).toBe(0);
      }
    }

    const src = await api.post('/sync/sources', {
      secret: alice.secret,
      body: { name: 'tt-prod', base_url: 'https://upstream.example/api', secret: 'upstream-user-secret-123' },
    });
    expect(src.status).toBe(201);
    const run = await api.post(`/sync/sources/${src.body.uuid}/runs`, { secret: alice.secret, body: {} });
    expect(run.status).toBe(202);

    const after = await api.get('/metrics');
    // Every job carries its account's fair-share turn as a priority (docs/sync.md "Fair shares").
    expect(sample(after.text, 'twindex_queue_jobs', `queue="${QUEUES.sync}",state="prioritized"`)).toBe(1);
    expect(sample(after.text, 'twindex_queue_jobs', `queue="${QUEUES.syncTwins}",state="waiting"`)).toBe(0);
  });
});

describe('queue metrics without Redis', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await TestApi.start(isolatedConfig({ REDIS_URL: 'redis://127.0.0.1:1' }));
  }, 60_000);
  afterAll(async () => {
    await api.stop();
  }, 60_000);

  it('still answers a scrape promptly, with the queues marked down and no depths', async () => {
    for (let i = 0; i < 2; i++) {
      const started = Date.now();
      const res = await api.get('/metrics');
      expect(res.status).toBe(200);
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(sample(res.text, 'twindex_queue_up', `queue="${QUEUES.sync}"`)).toBe(0);
      expect(res.text).not.toMatch(/^twindex_queue_jobs\{/m);
    }
  });
});
