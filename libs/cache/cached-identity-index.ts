import type { ChangeFeed } from './change-feed.js';
import { CoherentCache } from './coherent-cache.js';
import { MissBatcher } from './miss-batcher.js';
import { IdentityIndex, type IndexedIdentity } from '../store/identity-index.js';

export interface IdentityCacheOptions {
  maxEntries: number;
  maxBytes: number;
  ttlMs: number;
}

/** The cached value for one name: its rows (possibly none: a negative entry) and when it must stop being served. */
interface Entry {
  rows: IndexedIdentity[];
  /** Earliest future validity_ts among the rows, in ms; Infinity when none expires. */
  expiresAtMs: number;
}

// Rough V8 costs: entry + array headers, and per row an object with six fields plus its twin UUID string.
const ENTRY_OVERHEAD_BYTES = 120;
const ROW_BYTES = 160;

/**
 * The identity index behind an LRU of caller-independent rows keyed by identity name (ARCHITECTURE.md).
 * Coherent through the change feed: every committed change to identities names the affected names, and
 * this instance evicts exactly those; a lost feed flushes and bypasses the cache until it is back.
 */
export class CachedIdentityIndex extends IdentityIndex {
  private readonly cache: CoherentCache<Entry>;
  private readonly batcher: MissBatcher<Entry>;

  constructor(
    private readonly inner: IdentityIndex,
    feed: ChangeFeed,
    options: IdentityCacheOptions,
    private readonly clock: () => number = Date.now,
  ) {
    super();
    this.cache = new CoherentCache<Entry>({
      maxEntries: options.maxEntries,
      maxBytes: options.maxBytes,
      ttlMs: options.ttlMs,
      sizeOf: (e, key) => ENTRY_OVERHEAD_BYTES + key.length + e.rows.length * ROW_BYTES,
      expiresAtMs: (e) => e.expiresAtMs,
    });
    this.batcher = new MissBatcher<Entry>(
      async (names) => {
        const found = await this.inner.lookupMany(names);
        const now = this.clock();
        const out = new Map<string, Entry>();
        for (const [name, rows] of found) out.set(name, toEntry(rows, now));
        return out;
      },
      () => NEGATIVE,
    );
    feed.subscribe('i', {
      onChange: (m) =>
        m.keys === 'all' ? this.cache.invalidateAll() : m.keys.forEach((k) => this.cache.invalidate(k)),
      onTrust: (trusted) => this.cache.setTrusted(trusted),
    });
  }

  get stats() {
    return {
      ...this.cache.stats,
      size: this.cache.size,
      bytes: this.cache.calculatedBytes,
      trusted: this.cache.isTrusted,
    };
  }

  /** Synchronous hit path for the lean resolve route; undefined means "go through lookup". */
  peek(name: string): IndexedIdentity[] | undefined {
    const hit = this.cache.peek(name, this.clock());
    if (hit !== undefined) this.cache.stats.hits++;
    return hit?.rows;
  }

  async lookup(name: string): Promise<IndexedIdentity[]> {
    const found = this.cache.get(name, (n) => this.batcher.load(n), this.clock());
    return (found instanceof Promise ? await found : found).rows;
  }

  async lookupMany(names: readonly string[]): Promise<Map<string, IndexedIdentity[]>> {
    const now = this.clock();
    const out = new Map<string, IndexedIdentity[]>();
    const waiting: Promise<void>[] = [];
    for (const name of names) {
      if (out.has(name)) continue;
      const found = this.cache.get(name, (n) => this.batcher.load(n), now);
      if (found instanceof Promise) {
        out.set(name, []);
        waiting.push(found.then((e) => void out.set(name, e.rows)));
      } else out.set(name, found.rows);
    }
    if (waiting.length) await Promise.all(waiting);
    return out;
  }

  /** The writing instance evicts before it answers (read your own writes); the feed does it everywhere else. */
  override invalidate(names: Iterable<string>): void {
    for (const n of names) this.cache.invalidate(n);
  }
}

const NEGATIVE: Entry = Object.freeze({ rows: [], expiresAtMs: Infinity }) as Entry;

function toEntry(rows: IndexedIdentity[], nowMs: number): Entry {
  if (rows.length === 0) return NEGATIVE;
  let expiresAtMs = Infinity;
  for (const r of rows) {
    if (r.validityTs === null) continue;
    const ms = r.validityTs * 1000;
    if (ms > nowMs && ms < expiresAtMs) expiresAtMs = ms;
  }
  return { rows, expiresAtMs };
}
