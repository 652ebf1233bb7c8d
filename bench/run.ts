import { dropDatabase, ensureDatabase } from '../libs/store/database-setup.js';
import { type LoadResult, runLoad } from './support/load.js';
import { startServer, type Server } from './support/processes.js';
import { BENCH_OPERATOR_KEY, nameOf, seed, type Seeded } from './support/seed.js';
import { median, percentile, printTable, withSpread } from './support/stats.js';
import { removeKeys } from './support/redis-keys.js';
import { importBench } from './import-bench.js';
import { syncBench } from './sync-bench.js';
import { fairnessBench } from './fairness-bench.js';
import { regexBench } from './regex-bench.js';
import { notifyBench } from './notify-bench.js';
import { edgePushBench } from './edge-push-bench.js';
import { fairnessCacheBench } from './fairness-cache.js';

/**
 * `npm run bench [name…]`: every bench measures its baseline in the same run, interleaved round by round, and prints
 * ratios (absolute figures drift on a shared machine; ratios measured together mean something).
 */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 15);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const IDENTITIES = Number(process.env.BENCH_IDENTITIES ?? 1_000_000);
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/twindex_bench';
const dist = new URL('..', import.meta.url).pathname;
const API = `${dist}apps/api/main.js`;
const WORKER = `${dist}apps/worker/main.js`;
const ALL = [
  'resolve-hot',
  'resolve-cold',
  'resolve-batch',
  'invalidation',
  'memory',
  'import',
  'sync',
  'regex',
  'fairness',
  'notify',
  'edge-push',
  'fairness-cache',
] as const;
type BenchName = (typeof ALL)[number];

function apiEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL,
    TWINDEX_OPERATOR_KEY: BENCH_OPERATOR_KEY,
    REDIS_PREFIX: process.env.BENCH_REDIS_PREFIX ?? 'twindex_bench',
    LOG_LEVEL: 'info',
    NODE_ENV: 'production',
    // The throughput benches measure one account at full speed: its share of the resolve path is set out of reach,
    // so the check still runs on every request but never refuses. The fairness cases set their own.
    RESOLVE_NAMES_PER_SECOND_PER_ACCOUNT: '1000000000',
    RESOLVE_BURST_NAMES: '1000000000',
    ...extra,
  };
}

const paths = (from: number, count: number, step = 1) =>
  Array.from(
    { length: count },
    (_, i) => `/resolve/${encodeURIComponent(nameOf(1 + ((from + i * step) % IDENTITIES)))}`,
  );

async function withServers<T>(servers: Promise<Server>[], work: (s: Server[]) => Promise<T>): Promise<T> {
  const started = await Promise.all(servers);
  try {
    return await work(started);
  } finally {
    await Promise.all(started.map((s) => s.stop()));
  }
}

async function resolveHot(s: Seeded): Promise<number> {
  const hotPaths = paths(0, 1000);
  return withServers(
    [
      startServer(`${dist}bench/baselines/http-fixed.js`, 8090, {}),
      startServer(API, 8101, apiEnv()),
      // The same API without its per-request log line, to report what the line costs (docs/operations.md "Logs").
      startServer(API, 8107, apiEnv({ LOG_LEVEL: 'warn' })),
    ],
    async ([base, api, quiet]) => {
      const headers = { authorization: s.secret };
      // Warm the cache, the JIT and the heap's steady state (young-generation sizing) before measuring.
      await runLoad({ url: api.url, seconds: WARMUP_SECONDS, headers, paths: hotPaths });
      await runLoad({ url: quiet.url, seconds: Math.ceil(WARMUP_SECONDS / 2), headers, paths: hotPaths });
      await runLoad({ url: base.url, seconds: 2 });
      const rows: Array<Record<string, string | number>> = [];
      const col = {
        ratio: [] as number[],
        cpuRatio: [] as number[],
        api: [] as number[],
        base: [] as number[],
      };
      const cpu = {
        base: [] as number[],
        api: [] as number[],
        quiet: [] as number[],
        quietRps: [] as number[],
      };
      const measure = async (server: Server, url: string, withAuth: boolean) => {
        const before = server.cpuSeconds();
        const r = await runLoad({ url, seconds: SECONDS, ...(withAuth ? { headers, paths: hotPaths } : {}) });
        if (r.non2xx || r.errors) throw new Error(`resolve-hot: ${r.non2xx} non-2xx, ${r.errors} errors`);
        return { ...r, cpuUs: ((server.cpuSeconds() - before) * 1e6) / (r.rps * SECONDS) };
      };
      for (let r = 1; r <= ROUNDS; r++) {
        const b = await measure(base, `${base.url}/resolve/x`, false);
        const a = await measure(api, api.url, true);
        const q = await measure(quiet, quiet.url, true);
        col.ratio.push(a.rps / b.rps);
        col.cpuRatio.push(b.cpuUs / a.cpuUs);
        col.api.push(a.rps);
        col.base.push(b.rps);
        cpu.base.push(b.cpuUs);
        cpu.api.push(a.cpuUs);
        cpu.quiet.push(q.cpuUs);
        cpu.quietRps.push(q.rps);
        rows.push({
          round: r,
          'baseline req/s': b.rps,
          'api req/s': a.rps,
          ratio: a.rps / b.rps,
          'CPU µs/req base': b.cpuUs,
          'CPU µs/req api': a.cpuUs,
          'CPU ratio': b.cpuUs / a.cpuUs,
          'baseline p99 ms': b.p99,
          'api p99 ms': a.p99,
          'no-log req/s': q.rps,
          'no-log CPU µs/req': q.cpuUs,
        });
      }
      // Half load, one run each per round, interleaved: the API, and the baseline at the same rate, so a tail that
      // comes from the machine (other tenants of the host, the kernel) shows in the baseline too. One host hiccup
      // of a few tens of milliseconds decides a run's p99, so the median of the rounds is the figure.
      const half = Math.round(median(col.api) / 2);
      const halfApi: LoadResult[] = [];
      const halfBase: LoadResult[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        halfApi.push(await runLoad({ url: api.url, seconds: SECONDS, headers, paths: hotPaths, rate: half }));
        halfBase.push(await runLoad({ url: `${base.url}/resolve/x`, seconds: SECONDS, rate: half }));
      }
      rows.push({
        round: 'median (min–max)',
        'baseline req/s': withSpread(col.base, 0),
        'api req/s': withSpread(col.api, 0),
        ratio: withSpread(col.ratio),
        'CPU µs/req base': withSpread(cpu.base, 1),
        'CPU µs/req api': withSpread(cpu.api, 1),
        'CPU ratio': withSpread(col.cpuRatio),
        'baseline p99 ms': '',
        'api p99 ms': '',
        'no-log req/s': withSpread(cpu.quietRps, 0),
        'no-log CPU µs/req': withSpread(cpu.quiet, 1),
      });
      rows.push({
        round: `half load ${half}/s, ${ROUNDS} runs`,
        'baseline req/s': withSpread(
          halfBase.map((h) => h.rps),
          0,
        ),
        'api req/s': withSpread(
          halfApi.map((h) => h.rps),
          0,
        ),
        ratio: '',
        'CPU µs/req base': '',
        'CPU µs/req api': '',
        'CPU ratio': '',
        'baseline p99 ms': withSpread(halfBase.map((h) => h.p99)),
        'api p99 ms': withSpread(halfApi.map((h) => h.p99)),
        'no-log req/s': '',
        'no-log CPU µs/req': '',
      });
      printTable(
        'resolve-hot (GET /resolve, cached, details=false) vs bare node:http fixed JSON — target ≥ 0.6×, p99 ≤ 5 ms at half load',
        rows,
      );
      const logShare = 1 - median(cpu.quiet) / median(cpu.api);
      process.stdout.write(
        `request log line: ${(median(cpu.api) - median(cpu.quiet)).toFixed(1)} µs CPU per request ` +
          `(${(logShare * 100).toFixed(0)} % of a cached request)\n`,
      );
      return median(col.api);
    },
  );
}

async function resolveCold(s: Seeded): Promise<void> {
  // A different name on every request, spread over the whole index, and a one-entry cache: every lookup misses.
  const coldPaths = paths(7, 20_000, 48_611);
  await withServers(
    [
      startServer(`${dist}bench/baselines/http-pg.js`, 8091, { DATABASE_URL, POOL: '10' }),
      startServer(API, 8102, apiEnv({ CACHE_MAX_ENTRIES: '1' })),
    ],
    async ([base, api]) => {
      const headers = { authorization: s.secret };
      await runLoad({ url: api.url, seconds: 5, headers, paths: coldPaths });
      await runLoad({ url: base.url, seconds: 2, paths: coldPaths });
      const rows: Array<Record<string, string | number>> = [];
      const ratios: number[] = [];
      for (let r = 1; r <= ROUNDS; r++) {
        const b = await runLoad({ url: base.url, seconds: SECONDS, paths: coldPaths });
        const a = await runLoad({ url: api.url, seconds: SECONDS, headers, paths: coldPaths });
        if (a.non2xx || a.errors) throw new Error(`resolve-cold: ${a.non2xx} non-2xx, ${a.errors} errors`);
        ratios.push(a.rps / b.rps);
        rows.push({
          round: r,
          'baseline req/s': b.rps,
          'api req/s': a.rps,
          ratio: a.rps / b.rps,
          'api p99 ms': a.p99,
        });
      }
      rows.push({
        round: 'median',
        'baseline req/s': '',
        'api req/s': '',
        ratio: median(ratios),
        'api p99 ms': '',
      });
      printTable(
        `resolve-cold (every lookup a miss, ${IDENTITIES} identities) vs node:http + pg prepared point query — target ≥ 0.6×`,
        rows,
      );
    },
  );
}

async function resolveBatch(s: Seeded, hotRps: number): Promise<void> {
  const names = Array.from({ length: 1000 }, (_, i) => nameOf(1 + i));
  const body = JSON.stringify({ identities: names });
  await withServers([startServer(API, 8103, apiEnv())], async ([api]) => {
    const headers = { authorization: s.secret, 'content-type': 'application/json' };
    const load = { url: `${api.url}/resolve`, method: 'POST' as const, body, headers, connections: 16 };
    await runLoad({ ...load, seconds: 2 });
    const rows: Array<Record<string, string | number>> = [];
    const rates: number[] = [];
    for (let r = 1; r <= ROUNDS; r++) {
      const a = await runLoad({ ...load, seconds: SECONDS });
      if (a.non2xx || a.errors) throw new Error(`resolve-batch: ${a.non2xx} non-2xx, ${a.errors} errors`);
      rates.push(a.rps * 1000);
      rows.push({
        round: r,
        'calls/s': a.rps,
        'names/s': a.rps * 1000,
        'vs resolve-hot names/s': (a.rps * 1000) / hotRps,
      });
    }
    rows.push({
      round: 'median',
      'calls/s': '',
      'names/s': median(rates),
      'vs resolve-hot names/s': median(rates) / hotRps,
    });
    printTable(
      'resolve-batch (POST /resolve, 1,000 cached names per call) vs resolve-hot — target ≥ 20×',
      rows,
    );
  });
}

async function invalidation(s: Seeded): Promise<void> {
  await withServers([startServer(API, 8104, apiEnv()), startServer(API, 8105, apiEnv())], async ([a, b]) => {
    const auth = { authorization: s.secret, 'content-type': 'application/json' };
    const twin = '00000001-0000-4000-8000-000000000000';
    const name = 'INV#bench';
    const resolveOnB = async () => {
      const r = await fetch(`${b.url}/resolve/${encodeURIComponent(name)}`, { headers: auth });
      return ((await r.json()) as { twins: string[] }).twins.length > 0;
    };
    const lags: number[] = [];
    for (let i = 0; i < 200; i++) {
      const present = await resolveOnB(); // B caches the current answer
      const path = `/twins/${twin}/identities`;
      const res = present
        ? await fetch(`${a.url}${path}/${encodeURIComponent(name)}`, {
            method: 'DELETE',
            headers: { authorization: s.secret },
          })
        : await fetch(`${a.url}${path}`, {
            method: 'POST',
            headers: auth,
            body: JSON.stringify({ identities: { [name]: {} } }),
          });
      if (!res.ok) throw new Error(`invalidation write failed: ${res.status} ${await res.text()}`);
      const acked = performance.now();
      while ((await resolveOnB()) === present) {
        if (performance.now() - acked > 5000) throw new Error('B never saw the write');
      }
      lags.push(performance.now() - acked);
    }
    printTable(
      'invalidation (write acknowledged by A → B serves the new answer; 200 writes) — target p99 ≤ 100 ms',
      [
        {
          p50_ms: percentile(lags, 50),
          p90_ms: percentile(lags, 90),
          p99_ms: percentile(lags, 99),
          max_ms: Math.max(...lags),
        },
      ],
    );
  });
}

async function memory(s: Seeded): Promise<void> {
  await withServers(
    [
      startServer(
        API,
        8106,
        // A TTL longer than the fill takes on a busy machine, so every entry is still there when measured.
        apiEnv({
          CACHE_MAX_ENTRIES: String(IDENTITIES + 10),
          CACHE_MAX_BYTES: String(2 ** 31),
          CACHE_TTL_MS: String(3_600_000),
        }),
      ),
    ],
    async ([api]) => {
      const before = api.rssMiB();
      const headers = { authorization: s.secret, 'content-type': 'application/json' };
      for (let from = 1; from <= IDENTITIES; from += 1000) {
        const identities = Array.from({ length: Math.min(1000, IDENTITIES - from + 1) }, (_, i) =>
          nameOf(from + i),
        );
        const r = await fetch(`${api.url}/resolve`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ identities }),
        });
        if (!r.ok) throw new Error(`memory warm-up failed: ${r.status}`);
      }
      const metrics = await (await fetch(`${api.url}/metrics`)).text();
      const entries = Number(/twindex_cache_entries\{cache="identity"\} (\d+)/.exec(metrics)?.[1] ?? NaN);
      // V8 gives memory back lazily (its memory reducer runs once the process is idle); report where RSS settles.
      const samples: number[] = [];
      for (let i = 0; i < 20; i++) {
        await new Promise((r) => setTimeout(r, 1000));
        samples.push(api.rssMiB());
      }
      printTable('memory (API RSS with the identity cache full) — target ≤ 512 MiB at 1,000,000 entries', [
        {
          'cached entries': entries,
          'RSS idle before MiB': before,
          'RSS after warm-up MiB': samples[0],
          'RSS settled (20 s) MiB': samples[samples.length - 1],
          'V8 heap used MiB': heapUsedMiB(await (await fetch(`${api.url}/metrics`)).text()),
          'RSS bytes per entry': ((samples[samples.length - 1] - before) * 2 ** 20) / entries,
        },
      ]);
    },
  );
}

function heapUsedMiB(metrics: string): number {
  return Number(/^twindex_nodejs_heap_size_used_bytes (\d+)/m.exec(metrics)?.[1] ?? NaN) / 2 ** 20;
}

async function main(): Promise<void> {
  const asked = process.argv.slice(2);
  const named = (asked.length ? asked : ALL) as BenchName[];
  for (const w of named)
    if (!ALL.includes(w)) throw new Error(`unknown bench ${w}; known: ${ALL.join(', ')}`);
  // `fairness` is issue #21's whole bench: the queue cases and the cache cases (which run on the seeded index).
  const which = named.includes('fairness') ? [...new Set<BenchName>([...named, 'fairness-cache'])] : named;
  process.stdout.write(
    `# Twindex benchmarks — ${ROUNDS} interleaved rounds of ${SECONDS}s, ${IDENTITIES} identities\n`,
  );
  // regex needs no database; sync brings its own (bench/sync-bench.ts).
  if (which.some((w) => !['sync', 'regex', 'fairness', 'notify', 'edge-push'].includes(w))) {
    await dropDatabase(DATABASE_URL);
    await ensureDatabase(DATABASE_URL);
    // Overridable, like every bench's ports, so that two benches can run side by side on one machine.
    const seedPort = Number(process.env.BENCH_SEED_PORT ?? 8100);
    const seeded = await withServers([startServer(API, seedPort, apiEnv())], ([api]) =>
      seed(api.url, DATABASE_URL, IDENTITIES),
    );
    let hotRps = 0;
    if (which.includes('resolve-hot') || which.includes('resolve-batch')) hotRps = await resolveHot(seeded);
    if (which.includes('resolve-cold')) await resolveCold(seeded);
    if (which.includes('resolve-batch')) await resolveBatch(seeded, hotRps);
    if (which.includes('invalidation')) await invalidation(seeded);
    if (which.includes('memory')) await memory(seeded);
    if (which.includes('import'))
      await importBench(seeded, DATABASE_URL, API, WORKER, apiEnv(), IDENTITIES, ROUNDS);
    if (which.includes('fairness-cache'))
      await fairnessCacheBench(seeded, DATABASE_URL, API, WORKER, apiEnv, ROUNDS, SECONDS);
    await dropDatabase(DATABASE_URL);
    // What these benches' processes left in Redis (import queues, fair-share ledgers): their own prefix only.
    await removeKeys(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', apiEnv().REDIS_PREFIX);
  }
  // Its own database and worker process; see bench/sync-bench.ts.
  if (which.includes('sync')) await syncBench();
  if (which.includes('regex')) regexBench();
  if (which.includes('fairness')) await fairnessBench();
  // Its own database and worker process; see bench/notify-bench.ts.
  if (which.includes('notify')) await notifyBench();
  // Two deployments, each its own database; see bench/edge-push-bench.ts.
  if (which.includes('edge-push')) await edgePushBench();
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
