import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { dropDatabase, ensureDatabase, runMigrations } from '../libs/store/database-setup.js';
import { startServer, startWorkerProcess } from './support/processes.js';
import { removeKeys } from './support/redis-keys.js';
import { percentile, printTable, withSpread } from './support/stats.js';

/**
 * `notify`: change notifications end to end — a commit in PostgreSQL, the real worker process
 * (dist/apps/worker/main.js) woken by LISTEN/NOTIFY, a POST to a fast local receiver (node:http in this process).
 * - latency: commit acknowledged → callback received, single-identity transactions one after another, at idle and
 *   while another account (no topics) bulk-inserts 1,000-row statements back to back;
 * - throughput: one statement of NOTIFY_BENCH_MESSAGES identities on as many twins (one message each), delivered to
 *   one subscriber one POST per message, then with `max_batch` 500.
 * - bulk: an NDJSON import of NOTIFY_BENCH_IMPORT_IDENTITIES (1,000,000) identities through the real API into an
 *   account with a matching topic (one subscriber, `max_batch` 500) against the same import into an account without
 *   topics; the outbox's drain time, the worker's peak RSS, and another tenant's GET /resolve while it drains vs quiet.
 *   0 skips it.
 * Subscriptions are inserted confirmed (the subscribe/confirm round trip is not what is measured).
 */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const WRITES_PER_ROUND = Number(process.env.NOTIFY_BENCH_WRITES ?? 40);
const MESSAGES = Number(process.env.NOTIFY_BENCH_MESSAGES ?? 5_000);
/** `false` skips the one-POST-per-message rate (for a large NOTIFY_BENCH_MESSAGES it takes minutes). */
const ONE_BY_ONE = process.env.NOTIFY_BENCH_ONE_BY_ONE !== 'false';
const IMPORT_IDENTITIES = Number(process.env.NOTIFY_BENCH_IMPORT_IDENTITIES ?? 1_000_000);
const IMPORT_API_PORT = 8132;
const OPERATOR_KEY = 'bench-operator-key-0123456789abcdef01234567';
const API = new URL('../apps/api/main.js', import.meta.url).pathname;
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

function startWorker(databaseUrl: string): Promise<ChildProcess> {
  return startWorkerProcess(WORKER, {
    DATABASE_URL: databaseUrl,
    REDIS_PREFIX: 'twindex_bench_notify',
    TWINDEX_SECRET_KEY: SECRET_KEY,
    SYNC_ALLOWED_HOSTS: '127.0.0.1',
    MIGRATIONS_RUN: 'false',
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    WORKER_METRICS_PORT: '0',
  });
}

/** VmRSS now (MiB). */
function rssMiB(pid: number | undefined): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN) / 1024;
  } catch {
    return NaN;
  }
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
    const bulk = IMPORT_IDENTITIES > 0 ? await importCase(databaseUrl, db, receiver, worker) : undefined;

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
    process.stdout.write(`worker peak RSS over the latency and rate cases: ${peakRss.toFixed(0)} MiB\n`);
    if (bulk) {
      printTable(
        `notify: import of ${IMPORT_IDENTITIES} identities (NDJSON, POST /imports, the real worker)`,
        bulk.imports,
      );
      printTable(
        "notify: another tenant's GET /resolve (ms; API with a one-entry cache, so each one reads PostgreSQL; one every 5 ms)",
        bulk.resolves,
      );
      process.stdout.write(`${bulk.note}\n`);
    }
    process.stdout.write(
      `(${ROUNDS} rounds of ${WRITES_PER_ROUND} single-identity commits per load; median (min–max) over rounds)\n`,
    );
  } finally {
    if (worker && worker.exitCode === null) {
      const exited = new Promise((r) => worker?.once('exit', r));
      worker.kill('SIGTERM');
      await exited;
    }
    await receiver.close();
    await Promise.all([db.end(), loadDb.end()]);
    await dropDatabase(databaseUrl);
    // The import case's queue (and the worker's queue metadata) live under the bench's prefix.
    await removeKeys(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', 'twindex_bench_notify');
  }
}

const twinOf = (i: number, account: number) =>
  `${i.toString(16).padStart(8, '0')}-0000-4000-8000-${account.toString(16).padStart(12, '0')}`;

async function writeNdjson(file: string, count: number, account: number, prefix: string): Promise<void> {
  const out = createWriteStream(file);
  for (let i = 1; i <= count; i++) {
    const line = `{"twin":"${twinOf(i, account)}","identity":"${prefix}${i}"}\n`;
    if (!out.write(line)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
}

/**
 * The bulk case: two accounts import IMPORT_IDENTITIES identities each onto their own twins (made with plain SQL
 * beforehand), the first without topics, the second with a topic on `identity.created` that one subscriber
 * (`max_batch` 500) receives; a third account's resolves run at a steady pace throughout.
 */
async function importCase(
  databaseUrl: string,
  db: Client,
  receiver: Receiver,
  worker: ChildProcess,
): Promise<{
  imports: Array<Record<string, string | number>>;
  resolves: Array<Record<string, string | number>>;
  note: string;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'twindex-notify-import-'));
  // Every resolve reads PostgreSQL (a one-entry cache): the tenant most exposed to the drain's load on the database.
  const api = await startServer(API, IMPORT_API_PORT, {
    DATABASE_URL: databaseUrl,
    TWINDEX_OPERATOR_KEY: OPERATOR_KEY,
    REDIS_PREFIX: 'twindex_bench_notify',
    MIGRATIONS_RUN: 'false',
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    CACHE_MAX_ENTRIES: '1',
  });
  try {
    const account = async (name: string) => {
      const res = await fetch(`${api.url}/accounts`, {
        method: 'POST',
        headers: { authorization: `Bearer ${OPERATOR_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name }),
      });
      if (res.status !== 201) throw new Error(`account ${name}: ${res.status} ${await res.text()}`);
      const body = (await res.json()) as { account: { uuid: string }; secret: string };
      return { uuid: body.account.uuid, secret: body.secret };
    };
    const plain = await account('imports-without-topics');
    const topical = await account('imports-with-topic');
    const tenant = await account('another-tenant');
    const TENANT_NAMES = 10_000;
    for (const [n, a, count] of [
      [1, plain.uuid, IMPORT_IDENTITIES],
      [2, topical.uuid, IMPORT_IDENTITIES],
      [3, tenant.uuid, TENANT_NAMES],
    ] as const) {
      // Set-based, before any topic exists: the twins publish nothing.
      await db.query(
        `INSERT INTO twins (uuid, owner, status, creator, created_ts, updated_ts)
         SELECT (lpad(to_hex(g), 8, '0') || '-0000-4000-8000-' || lpad(to_hex($3::int), 12, '0'))::uuid,
                $1, 'alive', $1, 0, 0 FROM generate_series(1, $2) g`,
        [a, count, n],
      );
    }
    await db.query(
      `INSERT INTO identities (name, twin, owner, visibility, validity_ts, created_ts, updated_ts, creator)
       SELECT 'TENANT#' || g, (lpad(to_hex(g), 8, '0') || '-0000-4000-8000-000000000003')::uuid, $1, NULL, NULL, 0, 0, $1
         FROM generate_series(1, $2) g`,
      [tenant.uuid, TENANT_NAMES],
    );
    await db.query('ANALYZE twins; ANALYZE identities');
    const topic = await fetch(`${api.url}/notifications/topics/imports`, {
      method: 'PUT',
      headers: { authorization: topical.secret, 'content-type': 'application/json' },
      body: JSON.stringify({ triggers: ['identity.created'] }),
    });
    if (topic.status !== 200) throw new Error(`topic: ${topic.status} ${await topic.text()}`);
    await db.query(
      `INSERT INTO notification_subscriptions (uuid, account, topic, subscriber, callback_url, token_hash,
         token_nonce, max_batch, status, validity_ts, confirmation_due, created_ts, updated_ts)
       VALUES ($1, $2, 'imports', $2, $3, $4, $5, 500, 'active', extract(epoch FROM now()) + 86400, false, 0, 0)`,
      [
        randomUUID(),
        topical.uuid,
        `${receiver.url}/import`,
        createHash('sha256').update(randomBytes(32)).digest(),
        randomBytes(16).toString('hex'),
      ],
    );

    // Another tenant's resolves, one every 5 ms, tagged with the phase they ran in.
    const latencies = new Map<string, number[]>();
    let phase = 'quiet';
    let resolving = true;
    // Counted, not thrown: a rejection here would end the bench before its processes are stopped.
    let failedResolves = 0;
    const resolver = (async () => {
      for (let i = 0; resolving; i++) {
        const started = performance.now();
        const res = await fetch(`${api.url}/resolve/TENANT%23${1 + (i % TENANT_NAMES)}`, {
          headers: { authorization: tenant.secret },
        });
        await res.arrayBuffer();
        if (res.status !== 200) failedResolves++;
        const ms = performance.now() - started;
        if (!latencies.has(phase)) latencies.set(phase, []);
        latencies.get(phase)!.push(ms);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const during = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
      phase = name;
      try {
        return await work();
      } finally {
        phase = 'between';
      }
    };

    let peakDuring = 0;
    const sampler = setInterval(() => {
      peakDuring = Math.max(peakDuring, rssMiB(worker.pid));
    }, 200);
    const rssBefore = rssMiB(worker.pid);
    const importOnce = async (who: { secret: string }, n: number, prefix: string) => {
      const file = join(dir, `${n}.ndjson`);
      await writeNdjson(file, IMPORT_IDENTITIES, n, prefix);
      const body = readFileSync(file);
      const started = performance.now();
      const res = await fetch(`${api.url}/imports`, {
        method: 'POST',
        headers: { authorization: who.secret, 'content-type': 'application/x-ndjson' },
        body,
      });
      if (res.status !== 202) throw new Error(`import: ${res.status} ${await res.text()}`);
      const { uuid } = (await res.json()) as { uuid: string };
      for (;;) {
        const r = await fetch(`${api.url}/imports/${uuid}`, { headers: { authorization: who.secret } });
        const report = (await r.json()) as { status: string; counts: { imported: number } };
        if (report.status === 'failed') throw new Error(`import failed: ${JSON.stringify(report)}`);
        if (report.status === 'completed') {
          if (report.counts.imported !== IMPORT_IDENTITIES)
            throw new Error(`import: ${report.counts.imported} imported of ${IMPORT_IDENTITIES}`);
          return (performance.now() - started) / 1000;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    try {
      await new Promise((r) => setTimeout(r, 10_000)); // quiet: the tenant's resolves alone
      const plainSeconds = await during('import without topics', () => importOnce(plain, 1, 'IMPP#'));
      await new Promise((r) => setTimeout(r, 5_000));
      const started = performance.now();
      const topicalSeconds = await during('import with a topic', () => importOnce(topical, 2, 'IMPT#'));
      const imported = performance.now();
      const drainSeconds = await during('outbox draining', async () => {
        while ((receiver.counts.get('/import') ?? 0) < IMPORT_IDENTITIES) {
          if (performance.now() - imported > 1_800_000)
            throw new Error('the outbox did not drain in 30 minutes');
          await new Promise((r) => setTimeout(r, 50));
        }
        return (performance.now() - imported) / 1000;
      });
      const totalSeconds = (performance.now() - started) / 1000;
      phase = 'quiet after';
      await new Promise((r) => setTimeout(r, 10_000));
      const {
        rows: [left],
      } = await db.query<{ events: number; messages: number }>(
        `SELECT (SELECT count(*) FROM notification_events)::int AS events,
                (SELECT count(*) FROM notification_messages)::int AS messages`,
      );
      const imports = [
        {
          account: 'without topics',
          'import s': plainSeconds,
          'outbox drain s': '',
          'messages delivered': '',
        },
        {
          account: 'with a matching topic (one subscriber, max_batch 500)',
          'import s': topicalSeconds,
          'outbox drain s': drainSeconds,
          'messages delivered': receiver.counts.get('/import') ?? 0,
        },
      ];
      const resolves = [
        'quiet',
        'import without topics',
        'import with a topic',
        'outbox draining',
        'quiet after',
      ]
        .filter((p) => latencies.has(p))
        .map((p) => {
          const xs = latencies.get(p)!;
          return {
            phase: p,
            resolves: xs.length,
            p50: percentile(xs, 50),
            p99: percentile(xs, 99),
            max: Math.max(...xs),
          };
        });
      const note =
        `import with a topic → every message delivered: ${totalSeconds.toFixed(1)} s ` +
        `(${Math.round(IMPORT_IDENTITIES / totalSeconds)} identities/s end to end); outbox left: ${left.events} events, ` +
        `${left.messages} messages. Worker RSS ${rssBefore.toFixed(0)} MiB before the imports, at most ` +
        `${peakDuring.toFixed(0)} MiB during them and the drain (sampled every 200 ms), peak ever (VmHWM) ` +
        `${peakRssMiB(worker.pid).toFixed(0)} MiB. The other tenant's resolves that did not answer 200: ${failedResolves}.`;
      return { imports, resolves, note };
    } finally {
      clearInterval(sampler);
      resolving = false;
      await resolver;
    }
  } finally {
    await api.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
