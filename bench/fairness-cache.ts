import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import pg from 'pg';
import { CachedIdentityIndex } from '../libs/cache/cached-identity-index.js';
import type { ChangeFeed } from '../libs/cache/change-feed.js';
import { CoherentCache } from '../libs/cache/coherent-cache.js';
import type { IdentityRow } from '../libs/domain/model.js';
import { IdentityIndex } from '../libs/store/identity-index.js';
import { configSchema } from '../libs/config/config.schema.js';
import { BulkChangeNames1764500000000 } from '../migrations/1764500000000-bulk-change-names.js';
import type { GcProbeWindow } from './support/gc-probe.js';
import { runLoad } from './support/load.js';
import { startServer, type Server } from './support/processes.js';
import { BENCH_OPERATOR_KEY, type Seeded } from './support/seed.js';
import { median, printTable, withSpread } from './support/stats.js';

/**
 * The cache cases of `npm run bench fairness` (issue #21), runnable alone as `npm run bench fairness-cache`: a quiet
 * tenant Y resolving its warm names on instance B while a busy tenant X
 *
 * - re-imports a 6,000-line file in a loop through instance A (every merge rewrites 6,000 rows) — with today's
 *   trigger (names in chunks) and, in the same round, with the one before it (more than 5,000 rows flush), so the
 *   before/after is measured side by side, database commits included;
 * - resolves random names on B as fast as it can, at least 1,000,000 of them (the flood), while B's full-heap GC
 *   pauses, event-loop delay and peak RSS are recorded (bench/support/gc-probe.ts).
 *
 * Y's hit rate comes from B's cache counters: X's random names are all distinct, so each is exactly one miss and
 * never a hit, and is taken off. Before the servers: the hit rate of a scan-plus-hot-set trace on plain LRU against
 * the split cache, and the trigger's cost per statement, old and new.
 */
interface FairnessCacheOptions {
  seeded: Seeded;
  databaseUrl: string;
  api: string;
  worker: string;
  env: (extra?: Record<string, string>) => Record<string, string>;
  rounds: number;
  seconds: number;
}

const WARM_NAMES = Number(process.env.BENCH_WARM_NAMES ?? 5000);
const Y_RATE = Number(process.env.BENCH_Y_RATE ?? 2000);
const FLOOD_NAMES = Number(process.env.BENCH_FLOOD_NAMES ?? 1_000_000);
/** X's flood paces itself to this many names/s (default: as fast as it can). */
const FLOOD_RATE = Number(process.env.BENCH_FLOOD_RATE ?? Infinity);
const IMPORT_LINES = 6000;
/** A, B and the worker's metrics listen on this port and the next two. */
const PORT = Number(process.env.BENCH_FAIRNESS_CACHE_PORT ?? 8141);

export async function fairnessCacheBench(
  seeded: Seeded,
  databaseUrl: string,
  api: string,
  worker: string,
  env: (extra?: Record<string, string>) => Record<string, string>,
  rounds: number,
  seconds: number,
): Promise<void> {
  const o: FairnessCacheOptions = { seeded, databaseUrl, api, worker, env, rounds, seconds };
  if (wanted('trace')) await traceCase();
  if (wanted('in-process')) await floodInProcess(o.rounds);
  if (wanted('notify')) await notifyCost(o);
  if (['quiet', 'import-loop', 'flood', 'control'].some(wanted)) await tenantsCase(o);
}

/**
 * `BENCH_FAIRNESS_CACHE_CASES` (comma-separated: trace, in-process, notify, quiet, import-loop, flood, control) runs
 * only those cases; the tenants' cases always include `quiet`, the baseline their ratios need. Unset: all of them.
 */
const CASES = process.env.BENCH_FAIRNESS_CACHE_CASES?.split(',').map((c) => c.trim());
const wanted = (name: string): boolean => CASES === undefined || CASES.includes(name);

// ---- trace: plain LRU against the split cache ------------------------------------------------------------------

/**
 * A hot set of names that resolve, read uniformly, mixed with a scan of names read once that resolve to nothing (the
 * flood), through a cache of 20,000 entries: the hot set's hit rate on one LRU and with "nothing there" kept apart.
 */
async function traceCase(): Promise<void> {
  const HOT = 5000;
  const CAPACITY = 20_000;
  const STEPS = 2_000_000;
  const NOTHING = { rows: 0 };
  const rows: Array<Record<string, string | number>> = [];
  for (const scanShare of [0.5, 0.8, 0.9, 0.95, 0.99]) {
    const rates: number[] = [];
    for (const split of [false, true]) {
      const cache = new CoherentCache<{ rows: number }>({
        maxEntries: CAPACITY,
        maxBytes: 1e12,
        ttlMs: 3_600_000,
        sizeOf: () => 100,
        negative: split ? NOTHING : undefined,
      });
      let seed = 42;
      const random = () => (seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) / 2 ** 32;
      let hotReads = 0;
      let hotHits = 0;
      let scanned = 0;
      const positive = { rows: 1 };
      for (let i = 0; i < STEPS; i++) {
        if (random() < scanShare) {
          const key = `SCAN#${scanned++}`;
          if (cache.peek(key, 0) === undefined) await cache.get(key, () => Promise.resolve(NOTHING), 0);
        } else {
          const key = `HOT#${Math.floor(random() * HOT)}`;
          hotReads++;
          if (cache.peek(key, 0) !== undefined) hotHits++;
          else await cache.get(key, () => Promise.resolve(positive), 0);
        }
      }
      rates.push(hotHits / hotReads);
    }
    rows.push({
      'scan share': `${scanShare * 100} %`,
      'hot hit rate, plain LRU': `${(rates[0] * 100).toFixed(1)} %`,
      'hot hit rate, negatives apart': `${(rates[1] * 100).toFixed(1)} %`,
    });
  }
  printTable(
    `fairness-cache trace (hot set 5,000 names read uniformly, the rest a scan of names that resolve to nothing, cache 20,000 entries, 2M reads)`,
    rows,
  );
}

// ---- the flood's garbage, in-process --------------------------------------------------------------------------

/** An index that knows no name and answers after a short wait, as a database round trip would. */
class EmptyIndex extends IdentityIndex {
  lookup(): Promise<IdentityRow[]> {
    return Promise.resolve([]);
  }
  lookupMany(): Promise<Map<string, IdentityRow[]>> {
    return new Promise((resolve) => setTimeout(() => resolve(new Map()), 2));
  }
}

/**
 * 1,000,000 random names through the real CachedIdentityIndex in this process, 1,000 per call, two calls at a time,
 * each call's names parsed from a JSON body as a request's are: the full-heap GC pauses and RSS with the default
 * bounds (125,000 names kept as "nothing there") against a cache that keeps 1,000 of them, to tell what the retained
 * negative names cost the GC from what the requests themselves do.
 */
async function floodInProcess(rounds: number): Promise<void> {
  // The API's V8 heap flags, which decide when full GCs run; from here on this bench process runs with them too.
  await import('../apps/api/heap-flags.js');
  const rows: Array<Record<string, string | number>> = [];
  const feed = { subscribe: () => undefined } as unknown as ChangeFeed;
  for (const maxEntries of [1_000_000, 8000]) {
    const pauses: number[] = [];
    const counts: number[] = [];
    const peaks: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const index = new CachedIdentityIndex(new EmptyIndex(), feed, {
        maxEntries,
        maxBytes: 256 * 2 ** 20,
        ttlMs: 300_000,
      });
      const majors: number[] = [];
      const observer = new PerformanceObserver((list) => {
        for (const e of list.getEntries()) {
          const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
          if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors.push(e.duration);
        }
      });
      observer.observe({ entryTypes: ['gc'] });
      let sent = 0;
      let peak = 0;
      const one = async () => {
        while (sent < FLOOD_NAMES) {
          const names = Array.from(
            { length: 1000 },
            (_, i) => `XRAND#${Math.random().toString(36).slice(2)}-${sent + i}`,
          );
          sent += 1000;
          const asReceived = (JSON.parse(JSON.stringify({ identities: names })) as { identities: string[] })
            .identities;
          await index.lookupMany(asReceived);
          peak = Math.max(peak, process.memoryUsage().rss);
        }
      };
      await Promise.all([one(), one()]);
      await new Promise((r) => setTimeout(r, 100));
      observer.disconnect();
      pauses.push(Math.max(0, ...majors));
      counts.push(majors.length);
      peaks.push(peak / 2 ** 20);
    }
    rows.push({
      'names kept as "nothing there"': maxEntries / 8,
      'full GCs per round': counts.join('/'),
      'longest full GC ms': withSpread(pauses, 1),
      'peak RSS MiB': withSpread(peaks, 0),
    });
  }
  printTable(
    `fairness-cache flood in-process (${FLOOD_NAMES} random names through CachedIdentityIndex with the API's heap flags, ${rounds} rounds)`,
    rows,
  );
}

// ---- trigger cost per statement, old and new -------------------------------------------------------------------

type Trigger = 'flush above 5,000 rows (before)' | 'names in chunks (now)';

async function useTrigger(db: pg.Client, trigger: Trigger): Promise<void> {
  const m = new BulkChangeNames1764500000000();
  const runner = { query: (sql: string) => db.query(sql) } as unknown as Parameters<typeof m.up>[0];
  await (trigger === 'names in chunks (now)' ? m.up(runner) : m.down(runner));
}

async function notifyCost(o: FairnessCacheOptions): Promise<void> {
  const db = new pg.Client({ connectionString: o.databaseUrl });
  await db.connect();
  const twin = '00000001-0000-4000-8000-000000000000';
  const cost = new Map<string, number[]>();
  try {
    for (let round = 0; round < o.rounds; round++) {
      for (const trigger of ['flush above 5,000 rows (before)', 'names in chunks (now)'] as const) {
        await useTrigger(db, trigger);
        for (const rows of [6000, 100_000]) {
          const timed = async (what: string, sql: string, params: unknown[]) => {
            const started = performance.now();
            await db.query(sql, params);
            const key = `${trigger}|${rows}|${what}`;
            cost.set(key, [...(cost.get(key) ?? []), performance.now() - started]);
          };
          await timed(
            'insert',
            `INSERT INTO identities (name, twin, owner, created_ts, updated_ts, creator)
             SELECT 'NOTIFY#' || g, $1, $2, 1, 1, $2 FROM generate_series(1, $3) g`,
            [twin, o.seeded.account, rows],
          );
          // By the twin index: the seeded twin carries one other row.
          const mine = `twin = $1 AND name LIKE 'NOTIFY#%'`;
          await timed('update', `UPDATE identities SET visibility = 'true' WHERE ${mine}`, [twin]);
          await timed('delete', `DELETE FROM identities WHERE ${mine}`, [twin]);
        }
      }
    }
    await useTrigger(db, 'names in chunks (now)');
  } finally {
    await db.end();
  }
  const rows: Array<Record<string, string | number>> = [];
  for (const [key, ms] of cost) {
    const [trigger, count, what] = key.split('|');
    rows.push({ trigger, rows: Number(count), statement: what, 'ms per statement': withSpread(ms, 1) });
  }
  printTable(`fairness-cache notify cost (one statement with its trigger, ${o.rounds} rounds)`, rows);
}

// ---- two tenants on two instances ------------------------------------------------------------------------------

interface CacheCounters {
  hits: number;
  misses: number;
  bypassed: number;
  /** Times B lost its change channel (each flushes its caches), every way counted. */
  channelLosses: number;
}

async function counters(api: Server): Promise<CacheCounters> {
  const text = await (await fetch(`${api.url}/metrics`)).text();
  const read = (event: string) =>
    Number(
      new RegExp(`^twindex_cache_events_total\\{cache="identity",event="${event}"\\} (\\S+)`, 'm').exec(
        text,
      )?.[1],
    );
  let channelLosses = 0;
  for (const m of text.matchAll(/^twindex_cache_channel_losses_total\{how="\w+"\} (\S+)/gm))
    channelLosses += Number(m[1]);
  return { hits: read('hits'), misses: read('misses'), bypassed: read('bypassed'), channelLosses };
}

async function commits(db: pg.Client): Promise<number> {
  const r = await db.query<{ n: string }>(
    `SELECT xact_commit AS n FROM pg_stat_database WHERE datname = current_database()`,
  );
  return Number(r.rows[0].n);
}

interface Phase {
  hitRate: number;
  p99: number;
  rps: number;
  commitsPerSecond: number;
  loopP99Ms: number;
  loopMaxMs: number;
  majorGcMaxMs: number;
  majorGcs: number;
  peakRssMiB: number;
  channelLosses: number;
  extra: string;
}

async function tenantsCase(o: FairnessCacheOptions): Promise<void> {
  const probeFile = join(tmpdir(), `twindex-gc-probe-${process.pid}.json`);
  const probe = new URL('./support/gc-probe.js', import.meta.url).pathname;
  const db = new pg.Client({ connectionString: o.databaseUrl });
  await db.connect();
  const servers = await Promise.all([
    startServer(o.api, PORT, o.env()),
    startServer(o.api, PORT + 1, o.env(bEnv(probeFile)), [
      '--max-old-space-size=2048',
      '--import',
      probe,
      // e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to see where B's time goes.
      ...(process.env.BENCH_B_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
    ]),
    startServer(o.worker, PORT + 2, o.env({ WORKER_METRICS_PORT: String(PORT + 2) })),
  ]);
  const [a, b] = servers;
  try {
    const x = await anAccount(a.url, 'x');
    const xTwin = await aTwin(a.url, x.secret);
    const yAuth = { authorization: o.seeded.secret };
    const warm = Array.from({ length: WARM_NAMES }, (_, i) => o.seeded.names(i + 1));
    const yPaths = warm.map((n) => `/resolve/${encodeURIComponent(n)}`);
    const xNames = Array.from({ length: IMPORT_LINES }, (_, i) => `XIMP#bench-${i}`);
    let visibility = false;

    /**
     * One window: X's work (`busy`) starts, Y's load runs once `busy` says it is under way (at once by default) for
     * the bench's seconds, then X is told to stop and its summary is awaited.
     */
    const phase = async (
      busy: (stop: () => boolean, underWay: () => void) => Promise<string>,
    ): Promise<Phase> => {
      // Every window starts with Y's names warm on B, as a quiet tenant's are.
      await resolveMany(b.url, o.seeded.secret, warm);
      process.kill(b.process.pid as number, 'SIGUSR2');
      const before = await counters(b);
      const commitsBefore = await commits(db);
      const started = performance.now();
      let peakRssMiB = b.rssMiB();
      const sampler = setInterval(() => (peakRssMiB = Math.max(peakRssMiB, b.rssMiB())), 100);
      let done = false;
      let underWay!: () => void;
      const started2 = new Promise<void>((r) => (underWay = r));
      const attacker = busy(
        () => done,
        () => underWay(),
      );
      await Promise.race([started2, attacker]);
      const load = await runLoad({
        url: b.url,
        seconds: o.seconds,
        connections: 16,
        rate: Y_RATE,
        headers: yAuth,
        paths: yPaths,
      });
      done = true;
      const extra = await attacker;
      const seconds = (performance.now() - started) / 1000;
      clearInterval(sampler);
      const after = await counters(b);
      const xMisses = Number(/x misses (\d+)/.exec(extra)?.[1] ?? 0);
      const xHits = Number(/x hits (\d+)/.exec(extra)?.[1] ?? 0);
      const hits = after.hits - before.hits - xHits;
      const misses = after.misses - before.misses - xMisses;
      if (process.env.BENCH_DEBUG) console.log({ before, after, xMisses, load });
      await new Promise((r) => setTimeout(r, 300));
      const gc = JSON.parse(readFileSync(probeFile, 'utf8')) as GcProbeWindow;
      return {
        hitRate: hits / (hits + misses),
        p99: load.p99,
        rps: load.rps,
        commitsPerSecond: ((await commits(db)) - commitsBefore) / seconds,
        loopP99Ms: gc.loopP99Ms,
        loopMaxMs: gc.loopMaxMs,
        majorGcMaxMs: Math.max(0, ...gc.majorMs),
        majorGcs: gc.majorMs.length,
        peakRssMiB,
        channelLosses: after.channelLosses - before.channelLosses,
        extra,
      };
    };

    const quiet = () =>
      phase((_stop, underWay) => {
        underWay();
        return Promise.resolve('x idle');
      });
    const importLoop = (trigger: Trigger) => async () => {
      await useTrigger(db, trigger);
      try {
        return await phase(async (stop, underWay) => {
          underWay();
          const took: number[] = [];
          while (!stop()) {
            // Every line changes at each pass (visibility flips), so every merge rewrites 6,000 rows.
            visibility = !visibility;
            const started = performance.now();
            await importOnce(a.url, x.secret, xTwin, xNames, visibility);
            took.push(performance.now() - started);
          }
          return `x imports ${took.length}, median ${Math.round(median(took))} ms each`;
        });
      } finally {
        await useTrigger(db, 'names in chunks (now)');
      }
    };
    // The control: the same requests, but of 1,000 names B already holds (as "nothing there"): what X's traffic costs
    // Y when none of it misses.
    const cachedNames = Array.from({ length: 1000 }, (_, i) => `XSAME#${i}`);
    const flood = (cached: boolean) => async () => {
      if (cached) await resolveMany(b.url, x.secret, cachedNames);
      // X's bodies are written before the window opens, so that what X's client spends making them (on this machine's
      // other core, beside Y's load generator) is not counted against B: a real attacker's client runs elsewhere.
      const round = Math.random().toString(36).slice(2, 8);
      const bodies = Array.from({ length: cached ? 1 : Math.ceil(FLOOD_NAMES / 1000) }, (_, k) =>
        JSON.stringify({
          identities: cached
            ? cachedNames
            : Array.from({ length: 1000 }, (_, i) => `XRAND#${round}-${k * 1000 + i}`),
        }),
      );
      return phase(async (stop, underWay) => {
        let sent = 0;
        let refused = 0;
        const started = performance.now();
        let next = 0;
        const one = async () => {
          let body = bodies[next++ % bodies.length];
          while (sent < FLOOD_NAMES || !stop()) {
            sent += 1000;
            const ahead = sent / FLOOD_RATE - (performance.now() - started) / 1000;
            if (ahead > 0) await new Promise((r) => setTimeout(r, ahead * 1000));
            // An attacker: a refusal (429, over its share) is not waited out, the next batch goes at once — with the
            // same names, which a refusal never looked up, so every name X gets answered is still one never asked.
            if (await resolveBatch(b.url, x.secret, body)) body = bodies[next++ % bodies.length];
            else refused += 1000;
            // Y's window begins once the flood has filled the room for names that resolve to nothing many times over
            // (or, over its share, once X has tried that many).
            if (sent >= FLOOD_NAMES / 5) underWay();
          }
        };
        await Promise.all([one(), one()]);
        const seconds = (performance.now() - started) / 1000;
        const answered = sent - refused;
        return `x ${cached ? 'hits' : 'misses'} ${answered} (${Math.round(answered / seconds)} names/s), refused ${refused}`;
      });
    };

    const cases: Array<[string, () => Promise<Phase>]> = [['quiet', quiet]];
    if (wanted('import-loop'))
      cases.push(
        ['X import loop, flush above 5,000 rows (before)', importLoop('flush above 5,000 rows (before)')],
        ['X import loop, names in chunks (now)', importLoop('names in chunks (now)')],
      );
    if (wanted('flood')) cases.push(['X random-name flood', flood(false)]);
    if (wanted('control')) cases.push(['X flood of names B holds (control)', flood(true)]);
    const results = new Map<string, Phase[]>();
    for (let round = 0; round < o.rounds; round++) {
      for (const [name, run] of cases) results.set(name, [...(results.get(name) ?? []), await run()]);
    }
    const quietP99 = median((results.get('quiet') ?? []).map((p) => p.p99));
    printTable(
      `fairness-cache tenants (Y: ${WARM_NAMES} warm names at ${Y_RATE}/s on B; medians (min–max) of ${o.rounds} rounds of ${o.seconds} s) — targets: Y hit rate ≥ 95 %, Y p99 ≤ 2× quiet, loop delay p99 ≤ 20 ms, no full GC over 20 ms, RSS ≤ 512 MiB`,
      [...results].map(([name, ps]) => ({
        case: name,
        'Y hit rate %': withSpread(
          ps.map((p) => p.hitRate * 100),
          1,
        ),
        'Y p99 ms': withSpread(ps.map((p) => p.p99)),
        'p99 / quiet p99': withSpread(ps.map((p) => p.p99 / quietP99)),
        'DB commits/s': withSpread(
          ps.map((p) => p.commitsPerSecond),
          0,
        ),
        'B loop delay p99 ms': withSpread(
          ps.map((p) => p.loopP99Ms),
          1,
        ),
        'B loop delay max ms': withSpread(
          ps.map((p) => p.loopMaxMs),
          0,
        ),
        'B full GCs, longest ms': `${ps.map((p) => p.majorGcs).join('/')}, ${withSpread(
          ps.map((p) => p.majorGcMaxMs),
          1,
        )}`,
        'B peak RSS MiB': withSpread(
          ps.map((p) => p.peakRssMiB),
          0,
        ),
        'B channel losses': ps.map((p) => p.channelLosses).join('/'),
        X: ps.map((p) => p.extra).join('; '),
      })),
    );
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await db.end();
    rmSync(probeFile, { force: true });
  }
}

/**
 * B, where Y and X meet, runs with the product's default share of the resolve path per account (or
 * `BENCH_RESOLVE_RATE` names/s), not the throughput benches' unlimited one: the share is what keeps X's flood off Y.
 */
function bEnv(probeFile: string): Record<string, string> {
  const share = process.env.BENCH_RESOLVE_RATE;
  return {
    GC_PROBE_FILE: probeFile,
    GC_PROBE_PROFILE: process.env.GC_PROBE_PROFILE ?? '',
    RESOLVE_NAMES_PER_SECOND_PER_ACCOUNT:
      share ?? String(configSchema.parse({}).RESOLVE_NAMES_PER_SECOND_PER_ACCOUNT),
    RESOLVE_BURST_NAMES:
      process.env.BENCH_RESOLVE_BURST ?? share ?? String(configSchema.parse({}).RESOLVE_BURST_NAMES),
  };
}

async function anAccount(url: string, name: string): Promise<{ secret: string; account: string }> {
  const res = await fetch(`${url}/accounts`, {
    method: 'POST',
    headers: { authorization: BENCH_OPERATOR_KEY, 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  if (res.status !== 201) throw new Error(`account creation failed: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { account: { uuid: string }; secret: string };
  return { secret: body.secret, account: body.account.uuid };
}

async function aTwin(url: string, secret: string): Promise<string> {
  const res = await fetch(`${url}/twins`, {
    method: 'POST',
    headers: { authorization: secret, 'content-type': 'application/json' },
    body: '{}',
  });
  if (res.status !== 201) throw new Error(`twin creation failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { uuid: string }).uuid;
}

/** One POST /resolve (a body of up to 1,000 names): true when answered, false when refused with 429, else throws. */
async function resolveBatch(url: string, secret: string, body: string): Promise<boolean> {
  const res = await fetch(`${url}/resolve`, {
    method: 'POST',
    headers: { authorization: secret, 'content-type': 'application/json' },
    body,
  });
  await res.arrayBuffer();
  if (res.status === 429) return false;
  if (!res.ok) throw new Error(`resolve failed: ${res.status}`);
  return true;
}

async function resolveMany(url: string, secret: string, names: string[]): Promise<void> {
  for (let i = 0; i < names.length; i += 1000) {
    const res = await fetch(`${url}/resolve`, {
      method: 'POST',
      headers: { authorization: secret, 'content-type': 'application/json' },
      body: JSON.stringify({ identities: names.slice(i, i + 1000) }),
    });
    if (!res.ok) throw new Error(`resolve failed: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
  }
}

async function importOnce(
  url: string,
  secret: string,
  twin: string,
  names: string[],
  visible: boolean,
): Promise<void> {
  const visibility = visible ? 'true' : null;
  const body = names.map((identity) => JSON.stringify({ twin, identity, visibility })).join('\n') + '\n';
  const res = await fetch(`${url}/imports`, {
    method: 'POST',
    headers: { authorization: secret, 'content-type': 'application/x-ndjson' },
    body,
  });
  if (res.status !== 202) throw new Error(`import refused: ${res.status} ${await res.text()}`);
  const { uuid } = (await res.json()) as { uuid: string };
  for (;;) {
    const r = await fetch(`${url}/imports/${uuid}`, { headers: { authorization: secret } });
    const report = (await r.json()) as { status: string };
    if (report.status === 'completed') return;
    if (report.status === 'failed') throw new Error(`import ${uuid} failed`);
    await new Promise((done) => setTimeout(done, 20));
  }
}
