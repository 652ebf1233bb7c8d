import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import { Client } from 'pg';
import { loadConfig } from '../libs/config/index.js';
import { bullConnection } from '../libs/queue/bull-connection.js';
import { QUEUES } from '../libs/queue/job-catalogue.js';
import { SyncProducer } from '../libs/queue/sync-producer.js';
import { dropDatabase, ensureDatabase, runMigrations } from '../libs/store/database-setup.js';
import { credentialContext } from '../libs/sync/credential-context.js';
import { SecretBox } from '../libs/sync/secret-box.js';
import { startWorkerProcess } from './support/processes.js';
import { printTable } from './support/stats.js';

/**
 * `sync`: a full sync of SYNC_BENCH_TWINS twins × SYNC_BENCH_PER_TWIN identities (100,000 on 10,000 by default) from a
 * local Trusted Twin-compatible upstream (node:http in this process, answers prepared in advance) by the real worker
 * process (dist/apps/worker/main.js), end to end: scan, one job per twin, two upstream calls, one reconcile
 * transaction. A second run over the unchanged upstream measures the no-change path (nothing written).
 */
const TWINS = Number(process.env.SYNC_BENCH_TWINS ?? 10_000);
const PER_TWIN = Number(process.env.SYNC_BENCH_PER_TWIN ?? 10);
const CONCURRENCY = process.env.SYNC_BENCH_CONCURRENCY ?? '16';
const BASE_DB = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/twindex_bench';
const SECRET_KEY = 'bench-secret-key-0123456789abcdef0123456789';
const UPSTREAM_SECRET = 'bench-upstream-secret';
const WORKER = new URL('../apps/worker/main.js', import.meta.url).pathname;

export async function syncBench(): Promise<void> {
  const url = new URL(BASE_DB);
  url.pathname = '/twindex_bench_sync';
  const config = loadConfig({
    DATABASE_URL: url.toString(),
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_PREFIX: 'twindex_bench_sync',
    TWINDEX_SECRET_KEY: SECRET_KEY,
  });
  await dropDatabase(config.DATABASE_URL);
  await ensureDatabase(config.DATABASE_URL);
  await runMigrations(config.DATABASE_URL);

  const account = randomUUID();
  const upstream = await startUpstream(account);
  const db = new Client({ connectionString: config.DATABASE_URL });
  await db.connect();
  const opts = { connection: bullConnection(config), prefix: config.REDIS_PREFIX };
  const producer = new SyncProducer(new Queue(QUEUES.sync, opts), new Queue(QUEUES.syncTwins, opts), config);
  await producer.sources.obliterate({ force: true });
  await producer.twins.obliterate({ force: true });
  let worker: ChildProcess | undefined;
  try {
    const ts = Date.now() / 1000;
    await db.query(`INSERT INTO accounts (uuid, name, created_ts, updated_ts) VALUES ($1, 'bench', $2, $2)`, [
      account,
      ts,
    ]);
    const source = randomUUID();
    await db.query(
      `INSERT INTO sync_sources (uuid, account, name, base_url, secret_encrypted, include_foreign, enabled,
         max_concurrency, max_rate, webhook_token_hash, created_ts, updated_ts)
       VALUES ($1, $2, 'bench', $3, $4, false, true, 64, 10000, $5, $6, $6)`,
      [
        source,
        account,
        upstream.url,
        new SecretBox(SECRET_KEY).seal(UPSTREAM_SECRET, credentialContext(source, upstream.url)),
        Buffer.alloc(32),
        ts,
      ],
    );
    worker = await startWorker(config.DATABASE_URL, config.REDIS_PREFIX);

    const rows: Array<Record<string, string | number>> = [];
    for (const label of ['full sync (empty index)', 'full sync (unchanged upstream)']) {
      const run = randomUUID();
      await db.query(
        `INSERT INTO sync_runs (uuid, source, account, mode, trigger, status, created_ts)
         VALUES ($1, $2, $3, 'full', 'api', 'queued', extract(epoch FROM clock_timestamp()))`,
        [run, source, account],
      );
      const started = performance.now();
      await producer.enqueueRun(source, run, 'full', account);
      const report = await waitForRun(db, run);
      const seconds = (performance.now() - started) / 1000;
      const identities = TWINS * PER_TWIN;
      rows.push({
        run: label,
        twins: report.twins,
        identities,
        upserted: report.upserted,
        failed: report.failed,
        seconds,
        'identities/s': Math.round(identities / seconds),
        'twins/s': Math.round(TWINS / seconds),
      });
    }
    const stored = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM identities WHERE source = $1`,
      [source],
    );
    if (stored.rows[0].n !== TWINS * PER_TWIN) {
      throw new Error(`sync bench: ${stored.rows[0].n} identities stored, ${TWINS * PER_TWIN} expected`);
    }
    printTable(
      `sync: ${TWINS * PER_TWIN} identities on ${TWINS} twins, worker concurrency ${CONCURRENCY} (${upstream.requests()} upstream requests)`,
      rows,
    );
  } finally {
    if (worker && worker.exitCode === null) {
      const exited = new Promise((r) => worker?.once('exit', r));
      worker.kill('SIGTERM');
      await exited;
    }
    await producer.sources.obliterate({ force: true }).catch(() => undefined);
    await producer.twins.obliterate({ force: true }).catch(() => undefined);
    await producer.sources.close();
    await producer.twins.close();
    await db.end();
    await upstream.stop();
    await dropDatabase(config.DATABASE_URL);
  }
}

async function waitForRun(
  db: Client,
  run: string,
): Promise<{ twins: number; upserted: number; failed: number }> {
  for (;;) {
    const r = await db.query<{ status: string; twins: number; upserted: string; failed: number }>(
      `SELECT status, twins, upserted, failed FROM sync_runs WHERE uuid = $1`,
      [run],
    );
    const row = r.rows[0];
    if (row?.status === 'completed')
      return { twins: row.twins, upserted: Number(row.upserted), failed: row.failed };
    if (row?.status === 'failed') throw new Error(`sync bench: run ${run} failed`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function startWorker(databaseUrl: string, prefix: string): Promise<ChildProcess> {
  // SYNC_BENCH_NODE_ARGS: extra node flags for the worker, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`.
  const nodeArgs = (process.env.SYNC_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  return startWorkerProcess(
    WORKER,
    {
      DATABASE_URL: databaseUrl,
      DATABASE_POOL_SIZE: '20',
      REDIS_PREFIX: prefix,
      TWINDEX_SECRET_KEY: SECRET_KEY,
      // The bench upstream listens on loopback, which the SSRF guard refuses unless allowed.
      SYNC_ALLOWED_HOSTS: '127.0.0.1',
      WORKER_CONCURRENCY: CONCURRENCY,
      MIGRATIONS_RUN: 'false',
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
    },
    nodeArgs,
  );
}

/** The upstream: every answer serialised once, before the clock starts. */
async function startUpstream(
  account: string,
): Promise<{ url: string; stop(): Promise<void>; requests(): number }> {
  const base = Math.floor(Date.now() / 1000) - 86_400;
  const uuids: string[] = [];
  const twinJson = new Map<string, string>();
  const identitiesJson = new Map<string, string>();
  for (let t = 0; t < TWINS; t++) {
    const uuid = randomUUID();
    const ts = base + t / 1000;
    uuids.push(uuid);
    twinJson.set(
      uuid,
      JSON.stringify({
        uuid,
        owner: account,
        status: 'alive',
        description: { n: t },
        updated_ts: ts,
        creation_certificate: { uuid, creator: account, created_ts: ts },
      }),
    );
    const mine: Record<string, unknown> = {};
    for (let i = 0; i < PER_TWIN; i++) {
      mine[`RFID#b${t}x${i}`] = {
        visibility: i % 2 ? 'true' : null,
        validity_ts: null,
        created_ts: ts,
        updated_ts: ts,
      };
    }
    identitiesJson.set(uuid, JSON.stringify({ accounts: { [account]: mine } }));
  }
  let requests = 0;
  const server: Server = createServer((req, res) => {
    requests++;
    const send = (status: number, body: string) => {
      res.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    };
    if (req.headers.authorization !== UPSTREAM_SECRET) return send(401, '{"subcode":"unauthorized"}');
    const u = new URL(req.url ?? '/', 'http://upstream');
    const parts = u.pathname.split('/').filter(Boolean);
    if (parts.length === 1 && parts[0] === 'twins') {
      const size = Math.min(1000, Number(u.searchParams.get('count') ?? 100));
      const from = Number(u.searchParams.get('cursor') ?? 0);
      const page = uuids.slice(from, from + size);
      const next = from + size < uuids.length ? String(from + size) : null;
      return send(
        200,
        `{"twins":[${page.map((id) => twinJson.get(id)).join(',')}],"cursor":${JSON.stringify(next)}}`,
      );
    }
    const twin = parts[0] === 'twins' ? parts[1] : undefined;
    if (twin && parts.length === 2 && twinJson.has(twin)) return send(200, twinJson.get(twin) as string);
    if (twin && parts.length === 3 && parts[2] === 'identities' && identitiesJson.has(twin)) {
      return send(200, identitiesJson.get(twin) as string);
    }
    send(404, '{"subcode":"not_found"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => requests,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
