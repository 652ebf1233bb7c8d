import type { ChildProcess } from 'node:child_process';
import { Queue } from 'bullmq';
import { QUEUES } from '../libs/queue/job-catalogue.js';
import { dropDatabase, ensureDatabase, runMigrations } from '../libs/store/database-setup.js';
import { startServer, startWorkerProcess, type Server } from './support/processes.js';
import { removeKeys } from './support/redis-keys.js';
import { median, percentile, printTable, withSpread } from './support/stats.js';

/**
 * `edge-push`: two Twindex deployments, each its own database and Redis prefix, API and worker processes
 * (dist/apps/{api,worker}/main.js). The mirror has a sync source on the upstream with `"subscribe": {"topic"}`: its
 * worker subscribes its webhook intake, the intake confirms, and each message becomes a sync of its twin
 * (docs/notifications.md "Edge mirrors"). Measures an identity write acknowledged by the upstream → the mirror's
 * GET /resolve answering it, one write at a time, each on its own twin (so every write's sync job can be found and
 * timed), with the mirror's API run with the push delay (SYNC_PUSH_DEBOUNCE_MS) and with the half-second webhook
 * debounce it replaced, interleaved round by round.
 */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const WRITES = Number(process.env.EDGE_BENCH_WRITES ?? 50);
const PUSH_DEBOUNCE_MS = process.env.EDGE_BENCH_PUSH_DEBOUNCE_MS ?? '50';
const BASE_DB = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/twindex_bench';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const OPERATOR_KEY = 'bench-operator-key-0123456789abcdef01234567';
const SECRET_KEY = 'bench-secret-key-0123456789abcdef0123456789';
const UPSTREAM_PORT = 8130;
const MIRROR_PORT = 8131;
const dist = new URL('..', import.meta.url).pathname;
const API = `${dist}apps/api/main.js`;
const WORKER = `${dist}apps/worker/main.js`;

interface Deployment {
  databaseUrl: string;
  prefix: string;
  env(extra?: Record<string, string>): Record<string, string>;
}

function deployment(name: string): Deployment {
  const url = new URL(BASE_DB);
  url.pathname = `/twindex_bench_edge_${name}`;
  const prefix = `twindex_bench_edge_${name}`;
  return {
    databaseUrl: url.toString(),
    prefix,
    env: (extra = {}) => ({
      DATABASE_URL: url.toString(),
      REDIS_URL,
      REDIS_PREFIX: prefix,
      TWINDEX_OPERATOR_KEY: OPERATOR_KEY,
      TWINDEX_SECRET_KEY: SECRET_KEY,
      // Both deployments are on loopback: the SSRF guard of sources and callbacks must let it through.
      SYNC_ALLOWED_HOSTS: '127.0.0.1',
      MIGRATIONS_RUN: 'false',
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      WORKER_METRICS_PORT: '0',
      ...extra,
    }),
  };
}

function startWorker(env: Record<string, string>): Promise<ChildProcess> {
  // At `info`, so that its ready line shows (the deployments' env says `warn` for the APIs).
  return startWorkerProcess(WORKER, { ...env, LOG_LEVEL: 'info' });
}

async function stopWorker(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

async function call(
  base: string,
  method: string,
  path: string,
  secret: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: secret,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function must(
  what: string,
  status: number,
  res: Promise<{ status: number; body: Record<string, unknown> }>,
) {
  const r = await res;
  if (r.status !== status) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One write's time line, in ms from the upstream's acknowledgement (Date.now() of processes on one machine). */
interface Timeline {
  total: number;
  /** Ack → the mirror's intake queued the sync job (the upstream's outbox, fan-out and callback POST). */
  toIntake: number;
  /** Job queued → a mirror worker took it (the debounce, then the queue's hand-off). */
  queued: number;
  /** The sync itself: the twin fetched from the upstream and reconciled. */
  sync: number;
  /** Sync committed → the mirror's GET /resolve answered it (cache invalidation, this loop's polling). */
  toResolve: number;
}

export async function edgePushBench(): Promise<void> {
  const up = deployment('up');
  const mirror = deployment('mirror');
  for (const d of [up, mirror]) {
    await dropDatabase(d.databaseUrl);
    await ensureDatabase(d.databaseUrl);
    await runMigrations(d.databaseUrl);
    await removeKeys(REDIS_URL, d.prefix);
  }
  const upstreamUrl = `http://127.0.0.1:${UPSTREAM_PORT}`;
  const mirrorUrl = `http://127.0.0.1:${MIRROR_PORT}`;
  const twinJobs = new Queue<{ twin: string }>(QUEUES.syncTwins, {
    connection: { url: REDIS_URL, maxRetriesPerRequest: null },
    prefix: mirror.prefix,
  });
  const servers: Server[] = [];
  const workers: ChildProcess[] = [];
  let mirrorApi: Server | undefined;
  try {
    servers.push(await startServer(API, UPSTREAM_PORT, up.env()));
    const operator = `Bearer ${OPERATOR_KEY}`;
    const created = await must(
      'upstream account',
      201,
      call(upstreamUrl, 'POST', '/accounts', operator, { name: 'central' }),
    );
    const account = (created.account as { uuid: string }).uuid;
    const upSecret = created.secret as string;
    await must(
      'topic',
      200,
      call(upstreamUrl, 'PUT', '/notifications/topics/edge', upSecret, {
        triggers: ['identity.created', 'identity.updated', 'identity.deleted'],
      }),
    );
    workers.push(await startWorker(up.env({ PUBLIC_URL: upstreamUrl })));

    const startMirrorApi = (debounceMs: string) =>
      startServer(API, MIRROR_PORT, mirror.env({ SYNC_PUSH_DEBOUNCE_MS: debounceMs }));
    mirrorApi = await startMirrorApi(PUSH_DEBOUNCE_MS);
    const mirrored = await must(
      'mirror account',
      201,
      call(mirrorUrl, 'POST', '/accounts', operator, { name: 'edge', uuid: account }),
    );
    const mirrorSecret = mirrored.secret as string;
    await must(
      'source',
      201,
      call(mirrorUrl, 'POST', '/sync/sources', mirrorSecret, {
        name: 'central',
        base_url: upstreamUrl,
        secret: upSecret,
        max_rate: 1000,
        subscribe: { topic: 'edge' },
      }),
    );
    // The mirror's worker subscribes the source's intake as it starts (apps/worker/sync/upstream-push.ts).
    workers.push(await startWorker(mirror.env({ PUBLIC_URL: mirrorUrl })));
    const subscribedBy = Date.now() + 60_000;
    for (;;) {
      const list = await call(upstreamUrl, 'GET', '/notifications/webhooks', upSecret);
      const subs = (list.body.subscriptions ?? []) as Array<{ status: string }>;
      if (subs.some((s) => s.status === 'active')) break;
      if (Date.now() > subscribedBy)
        throw new Error(`the mirror did not subscribe: ${JSON.stringify(list.body)}`);
      await sleep(100);
    }

    const writeOnce = async (): Promise<Timeline> => {
      const twin = (await must('twin', 201, call(upstreamUrl, 'POST', '/twins', upSecret, {})))
        .uuid as string;
      const name = `EDGE#${twin}`;
      await must(
        'identity',
        201,
        call(upstreamUrl, 'POST', `/twins/${twin}/identities`, upSecret, {
          identities: { [name]: { visibility: 'true' } },
        }),
      );
      const acked = Date.now();
      const path = `/resolve/${encodeURIComponent(name)}`;
      for (;;) {
        const r = await call(mirrorUrl, 'GET', path, mirrorSecret);
        if (r.status === 200 && (r.body.twins as string[] | undefined)?.includes(twin)) break;
        if (Date.now() - acked > 10_000) throw new Error(`${name} not on the mirror within 10 s`);
        await sleep(2);
      }
      const answered = Date.now();
      const job = (await twinJobs.getJobs(['completed'], 0, 50)).find((j) => j.data.twin === twin);
      const added = job?.timestamp ?? NaN;
      const taken = job?.processedOn ?? NaN;
      const done = job?.finishedOn ?? NaN;
      return {
        total: answered - acked,
        toIntake: added - acked,
        queued: taken - added,
        sync: done - taken,
        toResolve: answered - done,
      };
    };
    await writeOnce(); // warm-up: connections, JIT, the mirror's first sync of the source

    const settings = [
      { label: `push delay ${PUSH_DEBOUNCE_MS} ms (SYNC_PUSH_DEBOUNCE_MS)`, debounce: PUSH_DEBOUNCE_MS },
      { label: 'webhook debounce 500 ms (as before)', debounce: '500' },
    ];
    const all = new Map<string, Timeline[]>(settings.map((s) => [s.label, []]));
    const perRound = new Map<string, { p50: number[]; p99: number[] }>(
      settings.map((s) => [s.label, { p50: [], p99: [] }]),
    );
    const rows: Array<Record<string, string | number>> = [];
    for (let round = 1; round <= ROUNDS; round++) {
      for (const s of settings) {
        await mirrorApi.stop();
        mirrorApi = await startMirrorApi(s.debounce);
        await writeOnce(); // the restarted API's warm-up
        const xs: Timeline[] = [];
        for (let i = 0; i < WRITES; i++) xs.push(await writeOnce());
        all.get(s.label)!.push(...xs);
        const totals = xs.map((x) => x.total);
        perRound.get(s.label)!.p50.push(percentile(totals, 50));
        perRound.get(s.label)!.p99.push(percentile(totals, 99));
        rows.push({
          round,
          setting: s.label,
          p50: percentile(totals, 50),
          p99: percentile(totals, 99),
          max: Math.max(...totals),
        });
      }
    }
    printTable(
      `edge-push: upstream write acknowledged → mirror's GET /resolve answers it (ms), per round`,
      rows,
    );
    const summary = settings.map((s) => {
      const xs = all.get(s.label)!;
      const pick = (k: keyof Timeline) => xs.map((x) => x[k]).filter(Number.isFinite);
      return {
        setting: s.label,
        writes: xs.length,
        'p50 (all)': percentile(pick('total'), 50),
        'p99 (all)': percentile(pick('total'), 99),
        'p50 over rounds': withSpread(perRound.get(s.label)!.p50, 0),
        'p99 over rounds': withSpread(perRound.get(s.label)!.p99, 0),
        'ack → intake': median(pick('toIntake')),
        'queued → taken': median(pick('queued')),
        sync: median(pick('sync')),
        'sync → resolve': median(pick('toResolve')),
      };
    });
    printTable(
      'edge-push: target p99 ≤ 1,000 ms; where the time goes (medians, ms): the upstream outbox and callback (ack → intake), debounce and hand-off (queued → taken), the twin sync, and the mirror answering',
      summary,
    );
  } finally {
    await mirrorApi?.stop();
    for (const w of workers) await stopWorker(w);
    await Promise.all(servers.map((s) => s.stop()));
    await twinJobs.close();
    for (const d of [up, mirror]) {
      await removeKeys(REDIS_URL, d.prefix);
      await dropDatabase(d.databaseUrl);
    }
  }
}
