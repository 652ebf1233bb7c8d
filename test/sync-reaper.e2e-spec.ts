/**
 * The run reaper re-drives work Redis lost, but not forever: a scan or twin job that keeps vanishing is queued again
 * SYNC_REAPER_MAX_REQUEUES times per run, then counted as failed with its reason, and the run ends. The reaper runs
 * against the real database and repository; its queue is a stand-in that loses every job, as a Redis that keeps
 * restarting without persistence (or a job that kills its worker each time) would.
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { SyncRunReaper } from '../apps/worker/sync/sync-run-reaper.js';
import type { SyncProducer } from '../libs/queue/sync-producer.js';
import { SyncRunsRepository } from '../libs/sync/sync-runs.repository.js';
import type { TwinSyncService } from '../libs/sync/twin-sync.service.js';
import { type TestAccount, TestApi } from './support/test-app.js';
import { isolatedConfig } from './support/test-env.js';
import { clearQueues, startRun } from './upstream-simulator/sync-harness.js';

const MAX = 2;

interface Report {
  status: string;
  counts: { twins: number; failed: number };
  errors: Array<{ twin: string | null; description: string }>;
}

describe('sync run reaper: a cap on re-queuing lost work', () => {
  let api: TestApi;
  let db: Client;
  let acme: TestAccount;
  let source: string;
  let reaper: SyncRunReaper;
  const queued = { scans: [] as string[], twins: [] as string[][] };

  beforeAll(async () => {
    api = await TestApi.start(isolatedConfig({ SYNC_REAPER_MAX_REQUEUES: String(MAX) }));
    db = new Client({ connectionString: api.config.DATABASE_URL });
    await db.connect();
    acme = await api.createAccount('acme');
    const res = await api.post<{ uuid: string }>('/sync/sources', {
      secret: acme.secret,
      body: { name: 'lossy', base_url: 'https://upstream.example/api', secret: 'upstream-secret-123' },
    });
    source = res.body.uuid;
    const runs = api.app.get(SyncRunsRepository, { strict: false });
    // A queue that never has a live job: everything the reaper looks for is lost, every time.
    const lossy = {
      liveScanRuns: () => Promise.resolve(new Set<string>()),
      failedScans: () => Promise.resolve(new Map<string, string>()),
      requeueRun: (_source: string, run: string) => {
        queued.scans.push(run);
        return Promise.resolve();
      },
      twinsWithoutJob: (_source: string, pending: string[]) => Promise.resolve(pending),
      enqueueTwins: (_source: string, twins: string[]) => {
        queued.twins.push([...twins].sort());
        return Promise.resolve();
      },
    } as unknown as SyncProducer;
    const finisher = {
      finishRuns: async (ids: readonly string[]) => {
        for (const id of ids) await runs.finishIfDone(id);
      },
    } as unknown as TwinSyncService;
    reaper = new SyncRunReaper({ ...api.config, SYNC_REAPER_GRACE_MS: 1 }, runs, lossy, finisher);
  }, 60_000);

  afterAll(async () => {
    await clearQueues(api.config);
    await db.end();
    await api.stop();
  }, 60_000);

  const report = async (run: string) =>
    (await api.get<Report>(`/sync/runs/${run}`, { secret: acme.secret })).body;

  /** A run as its scan left it a while ago: started, scan done, these twins pending. */
  async function scannedRun(twins: string[]): Promise<string> {
    const run = (await startRun(api, acme.secret, source)).uuid;
    const past = Date.now() / 1000 - 600;
    await db.query(
      `UPDATE sync_runs SET status = 'running', scan_done = true, started_ts = $2, created_ts = $2, twins = $3
        WHERE uuid = $1`,
      [run, past, twins.length],
    );
    await db.query(
      `INSERT INTO sync_run_twins (run, twin, queued_ts) SELECT $1, t, $3 FROM unnest($2::uuid[]) AS t`,
      [run, twins, past],
    );
    return run;
  }

  it('queues a lost twin job again MAX times, then counts the twin as failed and ends the run', async () => {
    const [lost, saved] = [randomUUID(), randomUUID()].sort();
    const run = await scannedRun([lost, saved]);
    queued.twins.length = 0;

    await reaper.tick();
    expect(queued.twins).toEqual([[lost, saved].sort()]);
    // The second twin's job ran this time; the first is lost again and again.
    await db.query(`UPDATE sync_run_twins SET done = true WHERE run = $1 AND twin = $2`, [run, saved]);
    for (let i = 1; i < MAX; i++) await reaper.tick();
    expect(queued.twins).toEqual([[lost, saved].sort(), ...Array.from({ length: MAX - 1 }, () => [lost])]);
    expect((await report(run)).status).toBe('running');

    await reaper.tick();
    expect(queued.twins).toHaveLength(MAX); // not queued a (MAX + 1)th time
    const ended = await report(run);
    expect(ended).toMatchObject({ status: 'completed', counts: { twins: 2, failed: 1 } });
    expect(ended.errors).toEqual([
      expect.objectContaining({ twin: lost, description: expect.stringContaining(`lost ${MAX} times`) }),
    ]);
    await reaper.tick();
    expect(queued.twins).toHaveLength(MAX);
  });

  it('queues a lost scan again MAX times, then fails the run with the reason', async () => {
    const run = (await startRun(api, acme.secret, source)).uuid;
    await db.query(`UPDATE sync_runs SET created_ts = $2 WHERE uuid = $1`, [run, Date.now() / 1000 - 600]);
    queued.scans.length = 0;
    for (let i = 0; i < MAX; i++) await reaper.tick();
    expect(queued.scans).toEqual(Array.from({ length: MAX }, () => run));
    expect((await report(run)).status).toBe('queued');

    await reaper.tick();
    expect(queued.scans).toHaveLength(MAX);
    const ended = await report(run);
    expect(ended.status).toBe('failed');
    expect(ended.errors).toEqual([
      expect.objectContaining({ twin: null, description: expect.stringContaining(`lost ${MAX} times`) }),
    ]);
  });
});
