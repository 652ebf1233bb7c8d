import { randomUUID } from 'node:crypto';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { loadConfig, type TwindexConfig } from '../libs/config/index.js';
import { bullConnection } from '../libs/queue/bull-connection.js';
import { QUEUES } from '../libs/queue/job-catalogue.js';
import { SyncProducer } from '../libs/queue/sync-producer.js';
import { dropDatabase, ensureDatabase, runMigrations } from '../libs/store/database-setup.js';
import { type Server, startServer } from './support/processes.js';
import { printTable } from './support/stats.js';

/**
 * `fairness`: a quiet tenant Y beside a busy tenant X, on the real API and worker processes (docs/sync.md and
 * docs/imports.md "Fair shares"). Each case returns its table; the cache cases live in their own file and are passed
 * to `fairnessBench` beside `fairnessQueueCases`.
 *
 * - sync: X has FAIRNESS_BENCH_BACKLOG (100,000) twin jobs queued and draining; Y starts a one-twin run. Measured
 *   twice in the same run: X's jobs added first come, first served (no priority, as before fair shares) and through
 *   the fair-share ledger. The first-come case is cut off after FAIRNESS_BENCH_FCFS_LIMIT_S; its wait is then
 *   estimated from the jobs still ahead of Y and the drain rate measured meanwhile.
 * - import: X uploads 2,000-line files in a loop from two clients; Y uploads one line once X's queue is full.
 */
const BACKLOG = Number(process.env.FAIRNESS_BENCH_BACKLOG ?? 100_000);
const FCFS_LIMIT_S = Number(process.env.FAIRNESS_BENCH_FCFS_LIMIT_S ?? 20);
const UPLOAD_LINES = Number(process.env.FAIRNESS_BENCH_UPLOAD_LINES ?? 2_000);
const ROUNDS = Number(process.env.FAIRNESS_BENCH_ROUNDS ?? 3);
const BASE_DB = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/twindex_bench';
const OPERATOR_KEY = 'bench-operator-key-0123456789abcdef0123456789';
const SECRET_KEY = 'bench-secret-key-0123456789abcdef0123456789';
const dist = new URL('..', import.meta.url).pathname;
const API = `${dist}apps/api/main.js`;
const WORKER = `${dist}apps/worker/main.js`;

type Row = Record<string, string | number>;

/** One case of `npm run bench fairness`: runs against the shared stage and answers its table. */
export interface FairnessCase {
  title: string;
  run(stage: FairnessStage): Promise<Row[]>;
}

/** What every case gets: the API and worker processes on their own database and Redis prefix, two tenants. */
export interface FairnessStage {
  config: TwindexConfig;
  api: Server;
  worker: Server;
  upstream: Upstream;
  busy: Tenant;
  quiet: Tenant;
}

export interface Tenant {
  account: string;
  secret: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function call<T>(stage: { api: Server }, method: string, path: string, secret: string, body?: unknown) {
  const res = await fetch(`${stage.api.url}${path}`, {
    method,
    headers: { authorization: secret, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

/** X's twin jobs and Y's run: FCFS (plain adds, as before fair shares) and fair (the ledger), same stage. */
const syncCase: FairnessCase = {
  title: `sync: Y's one-twin run while X has ${BACKLOG} twin jobs queued — target ≤ 5 s (fair)`,
  async run(stage) {
    const opts = { connection: bullConnection(stage.config), prefix: stage.config.REDIS_PREFIX };
    const producer = new SyncProducer(
      new Queue(QUEUES.sync, opts),
      new Queue(QUEUES.syncTwins, opts),
      stage.config,
    );
    const redis = new Redis(stage.config.REDIS_URL);
    const xSource = await call<{ uuid: string }>(stage, 'POST', '/sync/sources', stage.busy.secret, {
      name: 'x',
      base_url: stage.upstream.url,
      secret: stage.upstream.credential(stage.busy.account),
      max_rate: 10_000,
      max_concurrency: 64,
    });
    const ySource = await call<{ uuid: string }>(stage, 'POST', '/sync/sources', stage.quiet.secret, {
      name: 'y',
      base_url: stage.upstream.url,
      secret: stage.upstream.credential(stage.quiet.account),
    });
    const rows: Row[] = [];
    try {
      for (let round = 1; round <= ROUNDS; round++) {
        for (const mode of ['first come, first served', 'fair shares'] as const) {
          await producer.twins.pause();
          await producer.twins.obliterate({ force: true });
          await redis.del(producer.twinLedger.key);
          const addStarted = performance.now();
          for (let from = 0; from < BACKLOG; from += 1000) {
            const twins = Array.from({ length: Math.min(1000, BACKLOG - from) }, () => randomUUID());
            if (mode === 'fair shares') {
              await producer.enqueueTwins(xSource.uuid, twins, { account: stage.busy.account });
            } else {
              await producer.twins.addBulk(
                twins.map((twin) => ({
                  name: 'sync-twin',
                  data: { sourceId: xSource.uuid, account: stage.busy.account, twin },
                  opts: { removeOnComplete: { count: 1000 }, removeOnFail: { count: 1000 } },
                })),
              );
            }
          }
          const addSeconds = (performance.now() - addStarted) / 1000;
          const pendingOf = async () => {
            const c = await producer.twins.getJobCounts('waiting', 'prioritized', 'active', 'delayed');
            return Object.values(c).reduce((a, b) => a + b, 0);
          };
          await producer.twins.resume();
          // X's backlog is draining when Y asks: the worker is warm, as in the attack.
          await sleep(3_000);
          const atStart = await pendingOf();
          const started = performance.now();
          const run = await call<{ uuid: string }>(
            stage,
            'POST',
            `/sync/sources/${ySource.uuid}/runs`,
            stage.quiet.secret,
            {},
          );
          let status = 'queued';
          while (status !== 'completed' && status !== 'failed') {
            if ((performance.now() - started) / 1000 > FCFS_LIMIT_S) break;
            await sleep(50);
            status = (
              await call<{ status: string }>(stage, 'GET', `/sync/runs/${run.uuid}`, stage.quiet.secret)
            ).status;
          }
          const seconds = (performance.now() - started) / 1000;
          const left = await pendingOf();
          const drained = atStart - left;
          const rate = drained / seconds;
          const finished = status === 'completed';
          rows.push({
            round,
            mode,
            "X's jobs queued": BACKLOG,
            'add s': addSeconds.toFixed(1),
            "Y's run": status,
            "Y's run s": finished ? seconds.toFixed(2) : `> ${FCFS_LIMIT_S}`,
            "X's jobs run before Y's end": drained,
            'estimated s (jobs ahead / rate)': finished ? '—' : Math.round(left / rate),
            'X jobs/s': Math.round(rate),
          });
        }
      }
    } finally {
      await producer.twins.obliterate({ force: true }).catch(() => undefined);
      await redis.del(producer.twinLedger.key).catch(() => undefined);
      await producer.sources.close();
      await producer.twins.close();
      redis.disconnect();
    }
    return rows;
  },
};

/** X's upload loop (two clients, 2,000-line files) and Y's one-line import behind it. */
const importCase: FairnessCase = {
  title: `import: Y's one-line import behind X's upload loop (${UPLOAD_LINES}-line files, 2 clients) — target ≤ 10 s`,
  async run(stage) {
    const xTwin = (await call<{ uuid: string }>(stage, 'POST', '/twins', stage.busy.secret, {})).uuid;
    const yTwin = (await call<{ uuid: string }>(stage, 'POST', '/twins', stage.quiet.secret, {})).uuid;
    const upload = (secret: string, body: string) =>
      fetch(`${stage.api.url}/imports`, {
        method: 'POST',
        headers: { authorization: secret, 'content-type': 'application/x-ndjson' },
        body,
      });
    /** An upload refused before its body is read may see the connection closed under it: that is a refusal too. */
    const tryUpload = async (secret: string, body: string): Promise<number> => {
      try {
        const res = await upload(secret, body);
        await res.text();
        return res.status;
      } catch {
        return 0;
      }
    };
    const rows: Row[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      let stop = false;
      let accepted = 0;
      let refused = 0;
      const loop = async () => {
        while (!stop) {
          const file = Array.from(
            { length: UPLOAD_LINES },
            (_, i) => `{"twin":"${xTwin}","identity":"X#r${round}-${randomUUID().slice(0, 8)}-${i}"}`,
          ).join('\n');
          if ((await tryUpload(stage.busy.secret, file)) === 202) accepted++;
          else {
            refused++;
            // A client honouring Retry-After would wait seconds; the attacker comes back at once.
            await sleep(20);
          }
        }
      };
      const clients = [loop(), loop()];
      await sleep(10_000);
      const started = performance.now();
      const res = await upload(stage.quiet.secret, `{"twin":"${yTwin}","identity":"Y#r${round}"}\n`);
      if (res.status !== 202) throw new Error(`Y's import refused: ${res.status} ${await res.text()}`);
      const { uuid } = (await res.json()) as { uuid: string };
      let status = 'queued';
      while (status !== 'completed' && status !== 'failed') {
        await sleep(50);
        status = (await call<{ status: string }>(stage, 'GET', `/imports/${uuid}`, stage.quiet.secret))
          .status;
      }
      const seconds = (performance.now() - started) / 1000;
      stop = true;
      await Promise.all(clients);
      rows.push({
        round,
        "Y's import": status,
        "Y's import s": seconds.toFixed(2),
        "X's uploads accepted": accepted,
        "X's uploads refused (429)": refused,
      });
      // X's queue drains before the next round.
      await sleep(5_000);
    }
    return rows;
  },
};

export const fairnessQueueCases: readonly FairnessCase[] = [syncCase, importCase];

/** A Trusted Twin-compatible upstream: one twin per account credential to scan, any twin answered with one identity. */
interface Upstream {
  url: string;
  credential(account: string): string;
  stop(): Promise<void>;
}

async function startUpstream(): Promise<Upstream> {
  const accounts = new Map<string, string>();
  const scanned = new Map<string, string>();
  const ts = Math.floor(Date.now() / 1000) - 3_600;
  const twin = (uuid: string, owner: string) =>
    JSON.stringify({
      uuid,
      owner,
      status: 'alive',
      description: {},
      updated_ts: ts,
      creation_certificate: { uuid, creator: owner, created_ts: ts },
    });
  const server: HttpServer = createServer((req, res) => {
    const send = (status: number, body: string) => {
      res.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    };
    const owner = accounts.get(String(req.headers.authorization));
    if (!owner) return send(401, '{"subcode":"unauthorized"}');
    const parts = new URL(req.url ?? '/', 'http://upstream').pathname.split('/').filter(Boolean);
    if (parts.length === 1 && parts[0] === 'twins') {
      const mine = scanned.get(owner) ?? randomUUID();
      scanned.set(owner, mine);
      return send(200, `{"twins":[${twin(mine, owner)}],"cursor":null}`);
    }
    if (parts[0] !== 'twins' || !parts[1]) return send(404, '{"subcode":"not_found"}');
    if (parts.length === 2) return send(200, twin(parts[1], owner));
    const identity = { visibility: null, validity_ts: null, created_ts: ts, updated_ts: ts };
    return send(200, JSON.stringify({ accounts: { [owner]: { [`BENCH#${parts[1]}`]: identity } } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    credential: (account) => {
      const secret = `upstream-${randomUUID()}`;
      accounts.set(secret, account);
      return secret;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function createTenant(api: Server, name: string): Promise<Tenant> {
  const res = await fetch(`${api.url}/accounts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${OPERATOR_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  if (res.status !== 201) throw new Error(`account creation failed: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { account: { uuid: string }; secret: string };
  return { account: body.account.uuid, secret: body.secret };
}

/** `npm run bench fairness`: the queue cases here, plus any given (the cache's), each printed as its table. */
export async function fairnessBench(extra: readonly FairnessCase[] = []): Promise<void> {
  const url = new URL(BASE_DB);
  url.pathname = '/twindex_bench_fairness';
  const env: Record<string, string> = {
    DATABASE_URL: url.toString(),
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_PREFIX: 'twindex_bench_fairness',
    TWINDEX_OPERATOR_KEY: OPERATOR_KEY,
    TWINDEX_SECRET_KEY: SECRET_KEY,
    SYNC_ALLOWED_HOSTS: '127.0.0.1',
    // X's backlog is the bench's own doing (added past the API): the caps must not stop the worker's own adds.
    SYNC_PENDING_PER_SOURCE: String(BACKLOG * 2),
    SYNC_PENDING_PER_ACCOUNT: String(BACKLOG * 2),
    MIGRATIONS_RUN: 'false',
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
  };
  const config = loadConfig(env);
  await dropDatabase(config.DATABASE_URL);
  await ensureDatabase(config.DATABASE_URL);
  await runMigrations(config.DATABASE_URL);
  const upstream = await startUpstream();
  const servers: Server[] = [];
  try {
    const api = await startServer(API, 8120, env);
    servers.push(api);
    const worker = await startServer(WORKER, 8121, { ...env, WORKER_METRICS_PORT: '8121' });
    servers.push(worker);
    const stage: FairnessStage = {
      config,
      api,
      worker,
      upstream,
      busy: await createTenant(api, 'busy'),
      quiet: await createTenant(api, 'quiet'),
    };
    for (const c of [...fairnessQueueCases, ...extra]) {
      const rows = await c.run(stage);
      printTable(c.title, rows);
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await upstream.stop();
    const redis = new Redis(config.REDIS_URL);
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${config.REDIS_PREFIX}:*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
    redis.disconnect();
    await dropDatabase(config.DATABASE_URL);
  }
}
