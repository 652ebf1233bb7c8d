import { readFileSync } from 'node:fs';
import type { INestApplicationContext } from '@nestjs/common';
import { Queue } from 'bullmq';
import pg from 'pg';
import { parse as parseYaml } from 'yaml';
import { bullConnection } from '../libs/queue/bull-connection.js';
import { QUEUES } from '../libs/queue/job-catalogue.js';
import { WorkerMetricsServer } from '../apps/worker/metrics/metrics-server.js';
import { aName, aTwin } from './support/factories.js';
import { TestApi, type TestAccount } from './support/test-app.js';
import { UpstreamSimulator } from './upstream-simulator/simulator.js';
import { clearQueues, startWorker, syncAndWait, waitFor } from './upstream-simulator/sync-harness.js';

/** One sample of a Prometheus text exposition: `name{labels} value`. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const ok = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (ok) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

/** Metric families a scrape declares (`# TYPE name kind`), histograms with their series suffixes. */
function exported(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(m[1]);
    if (m[2] === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(m[1] + s);
    if (m[2] === 'summary') for (const s of ['_sum', '_count']) names.add(m[1] + s);
  }
  return names;
}

/**
 * The worker's /metrics move with real work (a sync run, an import, a failed job), both processes publish
 * twindex_build_info, and the Grafana dashboard and alert rules in deploy/ only name metrics that exist.
 */
describe('worker metrics, dashboard and alert rules', () => {
  let api: TestApi;
  let worker: INestApplicationContext;
  let sim: UpstreamSimulator;
  let acme: TestAccount;
  let workerUrl: string;

  const scrapeWorker = async () => (await fetch(`${workerUrl}/metrics`)).text();
  const scrapeApi = async () => (await api.get('/metrics')).text;

  beforeAll(async () => {
    api = await TestApi.start();
    acme = await api.createAccount('acme');
    sim = await UpstreamSimulator.start();
    worker = await startWorker(api.config);
    workerUrl = `http://127.0.0.1:${worker.get(WorkerMetricsServer).port}`;
  }, 60_000);
  afterAll(async () => {
    await worker?.close();
    await sim?.stop();
    await clearQueues(api.config);
    await api.stop();
  }, 60_000);

  it('serves /metrics on its own port, with twindex_build_info on both processes', async () => {
    const res = await fetch(`${workerUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    for (const text of [await res.text(), await scrapeApi()]) {
      const line = text.split('\n').find((l) => l.startsWith('twindex_build_info{'));
      expect(line).toMatch(/version="\d+\.\d+\.\d+[^"]*"/);
      expect(line).toContain(`node="${process.version}"`);
      expect(line).toMatch(/commit="[^"]+"/);
      expect(line).toMatch(/ 1$/);
    }
    expect((await fetch(`${workerUrl}/health`)).status).toBe(200);
  });

  it('counts a sync run: jobs completed by queue and name, durations, twins and identities upserted', async () => {
    const before = await scrapeWorker();
    const twins: string[] = [];
    for (let t = 0; t < 5; t++) {
      const twin = sim.addTwin(acme.account, { n: t });
      twins.push(twin.uuid);
      for (let i = 0; i < 2; i++) sim.setIdentity(twin.uuid, acme.account, `RFID#metrics${t}i${i}`);
    }
    await sim.settle();
    const source = await api.post('/sync/sources', {
      secret: acme.secret,
      body: { name: 'sim', base_url: sim.baseUrl, secret: sim.addCredential(acme.account), max_rate: 2000 },
    });
    expect(source.status).toBe(201);
    const run = await syncAndWait(api, acme.secret, source.body.uuid);
    expect(run.status).toBe('completed');

    // Job events reach the counters just after the run report is written: poll, never sleep.
    const after = await waitFor(async () => {
      const text = await scrapeWorker();
      return sample(text, 'twindex_sync_identities_total', { change: 'upserted' }) >= 10 ? text : undefined;
    }, 'sync counters');
    const delta = (name: string, labels: Record<string, string>) =>
      sample(after, name, labels) - sample(before, name, labels);
    expect(
      delta('twindex_worker_jobs_total', { queue: 'sync-twins', name: 'sync-twin', outcome: 'completed' }),
    ).toBe(5);
    expect(
      delta('twindex_worker_jobs_total', { queue: 'sync', name: 'sync-source', outcome: 'completed' }),
    ).toBe(1);
    expect(
      delta('twindex_worker_job_duration_seconds_count', { name: 'sync-twin', outcome: 'completed' }),
    ).toBe(5);
    expect(delta('twindex_sync_twins_total', {})).toBe(5);
    expect(delta('twindex_sync_identities_total', { change: 'upserted' })).toBe(10);

    // Upstream drops two identities: the next full run deletes them.
    sim.deleteIdentity(twins[0], acme.account, 'RFID#metrics0i0');
    await sim.settle();
    expect((await syncAndWait(api, acme.secret, source.body.uuid)).status).toBe('completed');
    await waitFor(async () => {
      const text = await scrapeWorker();
      return sample(text, 'twindex_sync_identities_total', { change: 'deleted' }) >= 1 ? text : undefined;
    }, 'sync deletions counted');
  });

  it('counts an import: rows merged and skipped, and a failed import as a failed job', async () => {
    const twin = (await aTwin(api, acme)).uuid;
    const before = await scrapeWorker();
    const lines = [
      JSON.stringify({ twin, identity: aName() }),
      JSON.stringify({ twin, identity: aName() }),
      JSON.stringify({ twin, identity: 'no scheme' }),
    ];
    const good = await api.post('/imports', {
      secret: acme.secret,
      raw: lines.join('\n') + '\n',
      headers: { 'content-type': 'application/x-ndjson' },
    });
    expect(good.status).toBe(202);
    // An import whose staged rows are gone before the merge (what a database crash does to the UNLOGGED staging
    // table) fails as a whole. The queue is paused meanwhile so that the worker cannot merge it first.
    const imports = new Queue(QUEUES.imports, {
      connection: bullConnection(api.config),
      prefix: api.config.REDIS_PREFIX,
    });
    await imports.pause();
    let bad;
    try {
      bad = await api.post('/imports', {
        secret: acme.secret,
        raw: JSON.stringify({ twin, identity: aName() }) + '\n',
        headers: { 'content-type': 'application/x-ndjson' },
      });
      expect(bad.status).toBe(202);
      const db = new pg.Client({ connectionString: api.config.DATABASE_URL });
      await db.connect();
      try {
        await db.query('DELETE FROM import_rows WHERE import = $1', [bad.body.uuid]);
      } finally {
        await db.end();
      }
    } finally {
      await imports.resume();
      await imports.close();
    }

    const after = await waitFor(async () => {
      const text = await scrapeWorker();
      const done =
        sample(text, 'twindex_worker_jobs_total', { queue: 'imports', outcome: 'completed' }) >
          sample(before, 'twindex_worker_jobs_total', { queue: 'imports', outcome: 'completed' }) &&
        sample(text, 'twindex_worker_jobs_total', { queue: 'imports', outcome: 'failed' }) >
          sample(before, 'twindex_worker_jobs_total', { queue: 'imports', outcome: 'failed' });
      return done ? text : undefined;
    }, 'import jobs counted');
    const delta = (name: string, labels: Record<string, string>) =>
      sample(after, name, labels) - sample(before, name, labels);
    expect(delta('twindex_import_rows_total', { outcome: 'merged' })).toBe(2);
    expect(delta('twindex_import_rows_total', { outcome: 'skipped' })).toBe(1);
    expect(
      delta('twindex_worker_jobs_total', { queue: 'imports', name: 'import-merge', outcome: 'failed' }),
    ).toBe(1);
    expect(
      delta('twindex_worker_jobs_total', { queue: 'imports', name: 'import-merge', outcome: 'completed' }),
    ).toBe(1);
    expect((await api.get(`/imports/${bad.body.uuid}`, { secret: acme.secret })).body.status).toBe('failed');
  });

  it('ships a Grafana dashboard and alert rules that name only exported metrics', async () => {
    const dashboard = JSON.parse(readFileSync('deploy/grafana/twindex-dashboard.json', 'utf8')) as {
      panels: Array<{ targets: Array<{ expr: string }> }>;
    };
    const rules = parseYaml(readFileSync('deploy/prometheus/alerts.yml', 'utf8')) as {
      groups: Array<{ rules: Array<{ alert: string; expr: string }> }>;
    };
    const exprs = [
      ...dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)),
      ...rules.groups.flatMap((g) => g.rules.map((r) => r.expr)),
    ];
    expect(dashboard.panels.length).toBeGreaterThan(5);
    expect(rules.groups[0].rules.length).toBeGreaterThan(5);
    const named = new Set(exprs.flatMap((e) => [...e.matchAll(/\btwindex_[a-z0-9_]+/g)].map((m) => m[0])));
    const available = new Set([...exported(await scrapeApi()), ...exported(await scrapeWorker())]);
    expect([...named].filter((n) => !available.has(n))).toEqual([]);
    // The worker's own families are among them, so the dashboard shows what docs/operations.md promises.
    for (const family of [
      'twindex_worker_jobs_total',
      'twindex_worker_job_duration_seconds_bucket',
      'twindex_sync_identities_total',
      'twindex_import_rows_total',
      'twindex_notify_deliveries_total',
      'twindex_notify_latency_seconds_bucket',
      'twindex_notify_outbox_rows',
      'twindex_build_info',
    ])
      expect(named).toContain(family);
  });
});
