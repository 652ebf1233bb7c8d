import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from 'pg';
import { dropDatabase, ensureDatabase, runMigrations } from '../libs/store/database-setup.js';
import { percentile, printTable, withSpread } from './support/stats.js';

/**
 * `notify`: change notifications end to end — a commit in PostgreSQL, the real worker process
 * (dist/apps/worker/main.js) woken by LISTEN/NOTIFY, a POST to a fast local receiver (node:http in this process).
 * - latency: commit acknowledged → callback received, single-identity transactions one after another, at idle and
 *   while another account (no topics) bulk-inserts 1,000-row statements back to back;
 * - throughput: one statement of NOTIFY_BENCH_MESSAGES identities on as many twins (one message each), delivered to
 *   one subscriber one POST per message, then with `max_batch` 500.
 * Subscriptions are inserted confirmed (the subscribe/confirm round trip is not what is measured).
 */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const WRITES_PER_ROUND = Number(process.env.NOTIFY_BENCH_WRITES ?? 40);
const MESSAGES = Number(process.env.NOTIFY_BENCH_MESSAGES ?? 5_000);
/** `false` skips the one-POST-per-message rate (for a large NOTIFY_BENCH_MESSAGES it takes minutes). */
const ONE_BY_ONE = process.env.NOTIFY_BENCH_ONE_BY_ONE !== 'false';
const BASE_DB = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/twindex_bench';
const SECRET_KEY = 'bench-secret-key-0123456789abcdef0123456789';
const WORKER = new URL('../apps/worker/main.js', import.meta.url).pathname;

interface Receiver {
  url: string;
  /** Messages received per path (a batch counts its messages), and when each single message arrived. */
  counts: Map<string, number>;
  arrivals: Map<string, number>;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const counts = new Map<string, number>();
  const arrivals = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = performance.now();
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        notifications?: unknown[];
        event?: Record<string, unknown>;
      };
      const path = req.url ?? '/';
      counts.set(path, (counts.get(path) ?? 0) + (body.notifications?.length ?? 1));
      for (const name of Object.keys(body.event ?? {})) arrivals.set(name, at);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    arrivals,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

async function startWorker(databaseUrl: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [WORKER], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      REDIS_PREFIX: 'twindex_bench_notify',
      TWINDEX_SECRET_KEY: SECRET_KEY,
      SYNC_ALLOWED_HOSTS: '127.0.0.1',
      MIGRATIONS_RUN: 'false',
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      WORKER_METRICS_PORT: '0',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => {
    if (output.length < 100_000) output += d.toString();
  });
  const started = Date.now();
  while (!output.includes('ready: worker')) {
    if (child.exitCode !== null) throw new Error(`worker exited with ${child.exitCode}:\n${output}`);
    if (Date.now() - started > 60_000) throw new Error(`worker did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return child;
}

/** VmHWM: the most resident memory the process ever had. */
function peakRssMiB(pid: number | undefined): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN) / 1024;
  } catch {
    return NaN;
  }
}

export async function notifyBench(): Promise<void> {
  const url = new URL(BASE_DB);
  url.pathname = '/twindex_bench_notify';
  const databaseUrl = url.toString();
  await dropDatabase(databaseUrl);
  await ensureDatabase(databaseUrl);
  await runMigrations(databaseUrl);
  const db = new Client({ connectionString: databaseUrl });
  const loadDb = new Client({ connectionString: databaseUrl });
  await Promise.all([db.connect(), loadDb.connect()]);
  const receiver = await startReceiver();
  let worker: ChildProcess | undefined;
  try {
    const [publisher, other] = [randomUUID(), randomUUID()];
    for (const a of [publisher, other])
      await db.query(`INSERT INTO accounts VALUES ($1, 'bench', 0, 0)`, [a]);
    await db.query(
      `INSERT INTO notification_topics VALUES ($1, 'all', ARRAY['identity.created'], NULL, 0, 0)`,
      [publisher],
    );
    const twin = randomUUID();
    const otherTwin = randomUUID();
    await db.query(
      `INSERT INTO twins (uuid, owner, status, creator, created_ts, updated_ts)
       VALUES ($1, $2, 'alive', $2, 0, 0), ($3, $4, 'alive', $4, 0, 0)`,
      [twin, publisher, otherTwin, other],
    );
    const subscribe = async (path: string, maxBatch: number | null): Promise<string> => {
      const uuid = randomUUID();
      await db.query(
        `INSERT INTO notification_subscriptions (uuid, account, topic, subscriber, callback_url, token_hash,
           token_nonce, max_batch, status, validity_ts, confirmation_due, created_ts, updated_ts)
         VALUES ($1, $2, 'all', $2, $3, $4, $5, $6, 'active', extract(epoch FROM now()) + 86400, false, 0, 0)`,
        [
          uuid,
          publisher,
          `${receiver.url}${path}`,
          createHash('sha256').update(randomBytes(32)).digest(),
          randomBytes(16).toString('hex'),
          maxBatch,
        ],
      );
      return uuid;
    };
    const end = (uuid: string) =>
      db.query(`UPDATE notification_subscriptions SET status = 'ended' WHERE uuid = $1`, [uuid]);
    worker = await startWorker(databaseUrl);

    let counter = 0;
    const oneWrite = async (): Promise<number> => {
      const name = `NOTIFY#${++counter}`;
      await db.query(
        `INSERT INTO identities (name, twin, owner, visibility, validity_ts, created_ts, updated_ts, creator)
         VALUES ($1, $2, $3, NULL, NULL, extract(epoch FROM now()), extract(epoch FROM now()), $3)`,
        [name, twin, publisher],
      );
      const committed = performance.now();
      const deadline = committed + 10_000;
      while (!receiver.arrivals.has(name)) {
        if (performance.now() > deadline) throw new Error(`${name} not delivered within 10 s`);
        await new Promise((r) => setImmediate(r));
      }
      return receiver.arrivals.get(name)! - committed;
    };

    const single = await subscribe('/latency', null);
    await oneWrite(); // warm-up: connections, JIT
    const idle: { p50: number[]; p99: number[] } = { p50: [], p99: [] };
    const loaded: { p50: number[]; p99: number[] } = { p50: [], p99: [] };
    let loadStatements = 0;
    for (let round = 0; round < ROUNDS; round++) {
      let xs: number[] = [];
      for (let i = 0; i < WRITES_PER_ROUND; i++) xs.push(await oneWrite());
      idle.p50.push(percentile(xs, 50));
      idle.p99.push(percentile(xs, 99));

      // Write load: another account (no topics) inserting 1,000-row statements back to back.
      let loading = true;
      const load = (async () => {
        while (loading) {
          const base = loadStatements++ * 1000;
          await loadDb.query(
            `INSERT INTO identities (name, twin, owner, visibility, validity_ts, created_ts, updated_ts, creator)
             SELECT 'LOAD#' || ($3::int + g), $1, $2, NULL, NULL, 0, 0, $2 FROM generate_series(1, 1000) g`,
            [otherTwin, other, base],
          );
        }
      })();
      xs = [];
      for (let i = 0; i < WRITES_PER_ROUND; i++) xs.push(await oneWrite());
      loading = false;
      await load;
      loaded.p50.push(percentile(xs, 50));
      loaded.p99.push(percentile(xs, 99));
    }
    await end(single);

    const throughput = async (path: string, maxBatch: number | null): Promise<number> => {
      const sub = await subscribe(path, maxBatch);
      const start = performance.now();
      // One statement, one identity on each of MESSAGES twins: MESSAGES events, one message each.
      await db.query(
        `WITH t AS (
           INSERT INTO twins (uuid, owner, status, creator, created_ts, updated_ts)
           SELECT gen_random_uuid(), $1, 'alive', $1, 0, 0 FROM generate_series(1, $2) RETURNING uuid)
         INSERT INTO identities (name, twin, owner, visibility, validity_ts, created_ts, updated_ts, creator)
         SELECT 'BULK#' || uuid, uuid, $1, NULL, NULL, 0, 0, $1 FROM t`,
        [publisher, MESSAGES],
      );
      while ((receiver.counts.get(path) ?? 0) < MESSAGES) {
        if (performance.now() - start > 600_000) throw new Error(`${path}: not drained in 10 minutes`);
        await new Promise((r) => setTimeout(r, 5));
      }
      const seconds = (performance.now() - start) / 1000;
      await end(sub);
      return MESSAGES / seconds;
    };
    const perMessage = ONE_BY_ONE ? await throughput('/one-by-one', null) : NaN;
    const batched = await throughput('/batched', 500);
    const peakRss = peakRssMiB(worker.pid);

    printTable('notify: commit → callback (ms), one subscriber, fast local receiver', [
      { load: 'idle', p50: withSpread(idle.p50, 1), p99: withSpread(idle.p99, 1) },
      {
        load: `another account inserting 1,000-row statements (${loadStatements} in all)`,
        p50: withSpread(loaded.p50, 1),
        p99: withSpread(loaded.p99, 1),
      },
    ]);
    printTable(`notify: delivery rate, ${MESSAGES} messages from one statement`, [
      { delivery: 'one POST per message', 'messages/s': Math.round(perMessage) },
      { delivery: 'max_batch 500', 'messages/s': Math.round(batched) },
    ]);
    process.stdout.write(`worker peak RSS over the whole bench: ${peakRss.toFixed(0)} MiB\n`);
    process.stdout.write(
      `(${ROUNDS} rounds of ${WRITES_PER_ROUND} single-identity commits per load; median (min–max) over rounds)\n`,
    );
  } finally {
    worker?.kill('SIGTERM');
    await receiver.close();
    await Promise.all([db.end(), loadDb.end()]);
    await dropDatabase(databaseUrl);
  }
}
