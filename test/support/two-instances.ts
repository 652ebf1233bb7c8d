/**
 * Helpers for the cache suites: two API instances on one database (each with its own caches and change feed),
 * polling for convergence with the time it took, and reading cache figures off /metrics.
 */
import { ChangeFeed } from '../../libs/cache/change-feed.js';
import { type TwindexConfig } from '../../libs/config/index.js';
import { type TestAccount, TestApi } from './test-app.js';
import { isolatedConfig } from './test-env.js';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** docs/resolution.md: a committed write is reflected by every instance within this bound. */
export const COHERENCE_BOUND_MS = 1000;

export interface InstancePair {
  a: TestApi;
  b: TestApi;
  config: TwindexConfig;
  /** Stops B (keeping the database), then A (dropping it). */
  stop(): Promise<void>;
}

/** A migrates and owns the database; B joins it without migrating. */
export async function startTwoInstances(overrides: Record<string, string> = {}): Promise<InstancePair> {
  const config = isolatedConfig(overrides);
  const a = await TestApi.start(config);
  let b: TestApi;
  try {
    b = await TestApi.start(config, { migrate: false });
  } catch (err) {
    await a.stop();
    throw err;
  }
  return {
    a,
    b,
    config,
    async stop() {
      await b.stop({ dropDatabase: false });
      await a.stop();
    },
  };
}

/**
 * Holds back the notifications an instance's change feed receives (its socket stops being read, as on a congested
 * network) without losing the connection, so that tests can tell the writer's own eviction apart from the feed's.
 * Returns the function that lets them through again.
 */
export function holdNotifications(api: TestApi): () => void {
  const feed = api.app.get<
    ChangeFeed,
    { client?: { connection?: { stream?: { pause(): void; resume(): void } } } }
  >(ChangeFeed);
  const stream = feed.client?.connection?.stream;
  if (!stream) throw new Error('the change feed has no connection to hold');
  stream.pause();
  return () => stream.resume();
}

export interface Converged<T> {
  value: T;
  /** From the call until `accept` first held. */
  lagMs: number;
  attempts: number;
}

/**
 * Calls `probe` until `accept` holds for its value, for at most `withinMs`; fails with the last value otherwise.
 * The first probe is immediate, so an instance already serving the new answer reports a lag near zero.
 */
export async function eventually<T>(
  probe: () => Promise<T>,
  accept: (value: T) => boolean,
  options: { withinMs?: number; intervalMs?: number; what?: string } = {},
): Promise<Converged<T>> {
  const withinMs = options.withinMs ?? COHERENCE_BOUND_MS;
  const started = performance.now();
  let attempts = 0;
  for (;;) {
    const value = await probe();
    attempts++;
    const lagMs = performance.now() - started;
    if (accept(value)) return { value, lagMs, attempts };
    if (lagMs > withinMs) {
      throw new Error(
        `${options.what ?? 'condition'} did not hold within ${withinMs} ms (${attempts} attempts); last value: ${JSON.stringify(value)}`,
      );
    }
    await sleep(options.intervalMs ?? 5);
  }
}

/** Records the worst lag seen, for the suites that report it. */
export class LagRecorder {
  readonly lags: Array<{ what: string; ms: number }> = [];

  add(what: string, ms: number): void {
    this.lags.push({ what, ms });
  }

  get maxMs(): number {
    return this.lags.reduce((m, l) => Math.max(m, l.ms), 0);
  }

  summary(): string {
    const sorted = this.lags.map((l) => l.ms).sort((x, y) => x - y);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
    return `${sorted.length} convergences: median ${at(0.5).toFixed(1)} ms, max ${this.maxMs.toFixed(1)} ms`;
  }
}

/** One sample of a Prometheus text exposition, by name and exact labels; undefined when absent. */
export function metricValue(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const got: Record<string, string> = {};
    for (const pair of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      got[pair[1]] = pair[2];
    }
    const wanted = Object.entries(labels);
    if (wanted.length === Object.keys(got).length && wanted.every(([k, v]) => got[k] === v))
      return Number(m[3]);
  }
  return undefined;
}

export interface CacheFigures {
  entries: number;
  bytes: number;
  evictions: number;
  hits: number;
  misses: number;
  bypassed: number;
}

/** The figures /metrics reports for one cache (`identity`, `twin`, `principal`). */
export async function cacheFigures(api: TestApi, cache: string): Promise<CacheFigures> {
  const res = await api.get('/metrics');
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  const text = res.text;
  const read = (name: string, labels: Record<string, string>) => {
    const v = metricValue(text, name, labels);
    if (v === undefined) throw new Error(`/metrics has no ${name}${JSON.stringify(labels)}`);
    return v;
  };
  const event = (event: string) => read('twindex_cache_events_total', { cache, event });
  return {
    entries: read('twindex_cache_entries', { cache }),
    bytes: read('twindex_cache_bytes', { cache }),
    evictions: event('evictions'),
    hits: event('hits'),
    misses: event('misses'),
    bypassed: event('bypassed'),
  };
}

/** POST /resolve as `party`, in calls of at most 1,000 names (the API's limit): name → twin UUIDs (empty: none). */
export async function resolveNames(
  api: TestApi,
  party: TestAccount,
  names: string[],
): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (let i = 0; i < names.length; i += 1000) {
    const res = await api.post<{ results: Record<string, { twins?: string[] }> }>('/resolve', {
      secret: party.secret,
      body: { identities: names.slice(i, i + 1000) },
    });
    if (res.status !== 200) throw new Error(`POST /resolve answered ${res.status}: ${res.text}`);
    for (const [name, r] of Object.entries(res.body.results)) out.set(name, r.twins ?? []);
  }
  return out;
}
