import type { INestApplicationContext } from '@nestjs/common';
import { Queue } from 'bullmq';
import { bullConnection } from '../libs/queue/bull-connection.js';
import { QUEUES } from '../libs/queue/job-catalogue.js';
import { WorkerMetricsServer } from '../apps/worker/metrics/metrics-server.js';
import { timeBoxedCounts } from '../libs/queue/time-boxed-counts.js';
import { BACKLOG_STATES } from '../apps/worker/metrics/worker-metrics.js';
import { WorkerMetrics } from '../apps/worker/metrics/worker-metrics.js';
import { TestApi } from './support/test-app.js';
import { isolatedConfig, removeRedisKeys } from './support/test-env.js';
import { clearQueues, startWorker, waitFor } from './upstream-simulator/sync-harness.js';

/** The value of `name{...labels}` in a Prometheus text exposition, or undefined when no such series exists. */
function series(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
      return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

const HOUR_MS = 3_600_000;

/**
 * The worker's backlog metric (twindex_worker_queue_jobs): what the KEDA ScaledObject of deploy/kubernetes scales
 * on, so prioritized and delayed jobs must count, and a Redis that does not answer must show as down, not as 0.
 */
describe('worker queue backlog metric', () => {
  describe('read from a queue no worker takes from', () => {
    const config = isolatedConfig();
    let queue: Queue;
    beforeAll(() => {
      queue = new Queue('backlog-probe', { connection: bullConnection(config), prefix: config.REDIS_PREFIX });
    });
    afterAll(async () => {
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
      await removeRedisKeys(config);
    });

    it('counts waiting, prioritized and delayed jobs apart', async () => {
      await queue.addBulk([
        { name: 'w', data: {} },
        { name: 'w', data: {} },
        { name: 'p', data: {}, opts: { priority: 5 } },
        { name: 'p', data: {}, opts: { priority: 7 } },
        { name: 'p', data: {}, opts: { priority: 9 } },
        { name: 'd', data: {}, opts: { delay: HOUR_MS } },
      ]);
      const metrics = new WorkerMetrics();
      metrics.trackBacklog('backlog-probe', timeBoxedCounts(queue, BACKLOG_STATES, 5_000));
      const text = await metrics.registry.metrics();
      const q = { queue: 'backlog-probe' };
      expect(series(text, 'twindex_worker_queue_jobs', { ...q, state: 'waiting' })).toBe(2);
      expect(series(text, 'twindex_worker_queue_jobs', { ...q, state: 'prioritized' })).toBe(3);
      expect(series(text, 'twindex_worker_queue_jobs', { ...q, state: 'delayed' })).toBe(1);
      expect(series(text, 'twindex_worker_queue_up', q)).toBe(1);
    });
  });

  it('reports a queue whose Redis does not answer as down, with no depth series', async () => {
    // Nothing listens on port 1: every read stays queued in ioredis until the time box ends it.
    const queue = new Queue('unreachable', {
      connection: { host: '127.0.0.1', port: 1, maxRetriesPerRequest: null, retryStrategy: () => 1000 },
    });
    queue.on('error', () => undefined);
    try {
      const metrics = new WorkerMetrics();
      metrics.trackBacklog('unreachable', timeBoxedCounts(queue, BACKLOG_STATES, 200));
      const text = await metrics.registry.metrics();
      expect(series(text, 'twindex_worker_queue_up', { queue: 'unreachable' })).toBe(0);
      expect(series(text, 'twindex_worker_queue_jobs', { queue: 'unreachable' })).toBeUndefined();
    } finally {
      await queue.close().catch(() => undefined);
    }
  });

  describe('served by a running worker', () => {
    let api: TestApi;
    let worker: INestApplicationContext;
    let url: string;
    beforeAll(async () => {
      api = await TestApi.start();
      worker = await startWorker(api.config);
      url = `http://127.0.0.1:${worker.get(WorkerMetricsServer).port}`;
    }, 60_000);
    afterAll(async () => {
      await worker?.close();
      await clearQueues(api.config);
      await api.stop();
    }, 60_000);

    it('exports the backlog of every queue it works, and counts a job delayed for an hour', async () => {
      const imports = new Queue(QUEUES.imports, {
        connection: bullConnection(api.config),
        prefix: api.config.REDIS_PREFIX,
      });
      try {
        await imports.add('import-merge', { importId: 'not-yet' }, { delay: HOUR_MS });
      } finally {
        await imports.close();
      }
      const text = await waitFor(async () => {
        const t = await (await fetch(`${url}/metrics`)).text();
        return series(t, 'twindex_worker_queue_jobs', { queue: QUEUES.imports, state: 'delayed' }) === 1
          ? t
          : undefined;
      }, 'the delayed import-merge job in the worker metrics');
      for (const queue of Object.values(QUEUES)) {
        expect(series(text, 'twindex_worker_queue_up', { queue })).toBe(1);
        for (const state of ['waiting', 'prioritized', 'delayed'])
          expect(series(text, 'twindex_worker_queue_jobs', { queue, state })).toEqual(expect.any(Number));
      }
    });

    it('answers the Kubernetes probe paths on its metrics port', async () => {
      for (const path of ['/health', '/health/live', '/health/ready'])
        expect((await fetch(`${url}${path}`)).status).toBe(200);
    });
  });
});
