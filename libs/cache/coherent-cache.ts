import { LRUCache } from 'lru-cache';
import type { ChangeFeed } from './change-feed.js';
import type { ChangeKind } from './change-message.js';
import { NegativeNames } from './negative-names.js';

export interface CoherentCacheOptions<V> {
  maxEntries: number;
  maxBytes: number;
  ttlMs: number;
  sizeOf: (value: V, key: string) => number;
  /** Absolute time (ms) after which the value must not be served, e.g. the earliest validity_ts of its rows. */
  expiresAtMs?: (value: V) => number | undefined;
  /**
   * The value that means "nothing there", when the cache should keep such keys apart: in a set of their own holding
   * `NEGATIVE_SHARE` of the bounds (the rest goes to the values), so a flood of keys that exist nowhere can never evict
   * a value (docs/resolution.md "What the cache means for you"). Without it every value shares one LRU.
   */
  negative?: V;
}

/** The share of the entry and byte bounds that keys known to hold nothing may take. */
export const NEGATIVE_SHARE = 1 / 8;

export interface CacheStats {
  hits: number;
  misses: number;
  evictions: number;
  bypassed: number;
}

/** What /metrics reports of a cache. */
export interface CacheSnapshot extends CacheStats {
  size: number;
  bytes: number;
  trusted: boolean;
}

/** A load of one key (`get`). */
interface InFlight<V> {
  promise: Promise<V>;
  stale: boolean;
}

/**
 * A load of many keys (`getMany`), registered under each of them: one record per batch, not a record, a promise and
 * two closures per key (garbage that young GCs promote, since it lives across the query). An invalidation of one key
 * just unregisters it, as the batch stores only the keys still registered to it; `stale` marks a flush.
 */
interface BatchInFlight<V> {
  loaded: Promise<ReadonlyMap<string, V>>;
  stale: boolean;
}

/**
 * An LRU of caller-independent facts that never stores a value fetched across an invalidation.
 *
 * The race it closes: a miss starts a load, a write commits and its invalidation arrives while the load is
 * running, then the load returns the old rows. Every load is registered in `inFlight`; an invalidation marks
 * the registered load stale and removes it, so its result is handed to the callers that were already waiting
 * (their requests began before the write) but never stored, and later callers start a fresh load.
 * `epoch` does the same for whole-cache flushes.
 *
 * Given a `negative` value, keys holding it live in a small set of their own (NegativeNames) with a fixed share of the
 * bounds, so that however many keys turn out to hold nothing, they only ever evict each other.
 */
export class CoherentCache<V extends NonNullable<unknown>> {
  private readonly lru: LRUCache<string, V>;
  private readonly negatives: NegativeNames | undefined;
  private readonly inFlight = new Map<string, InFlight<V> | BatchInFlight<V>>();
  private epoch = 0;
  private trusted = true;
  readonly stats: CacheStats = { hits: 0, misses: 0, evictions: 0, bypassed: 0 };

  constructor(private readonly options: CoherentCacheOptions<V>) {
    let { maxEntries, maxBytes } = options;
    if (options.negative !== undefined && maxEntries > 1) {
      const entries = Math.max(1, Math.floor(maxEntries * NEGATIVE_SHARE));
      const bytes = Math.max(1, Math.floor(maxBytes * NEGATIVE_SHARE));
      this.negatives = new NegativeNames({ maxEntries: entries, maxBytes: bytes, ttlMs: options.ttlMs });
      maxEntries -= entries;
      maxBytes = Math.max(1, maxBytes - bytes);
    }
    this.lru = new LRUCache<string, V>({
      max: maxEntries,
      maxSize: maxBytes,
      sizeCalculation: (v, k) => Math.max(1, options.sizeOf(v, k)),
      ttl: options.ttlMs,
      ttlAutopurge: false,
      // Only evictions for room count; deletions we asked for are invalidations.
      dispose: (_v, _k, reason) => {
        if (reason === 'evict') this.stats.evictions++;
      },
    });
  }

  get size(): number {
    return this.lru.size + (this.negatives?.size ?? 0);
  }

  get snapshot(): CacheSnapshot {
    return {
      ...this.stats,
      evictions: this.stats.evictions + (this.negatives?.evictions ?? 0),
      size: this.size,
      bytes: this.calculatedBytes,
      trusted: this.trusted,
    };
  }

  /**
   * Keeps this cache coherent with the change feed: evicts the keys a change names, flushes on a flush message, and
   * flushes and bypasses itself while the channel is down.
   */
  follow(feed: ChangeFeed, kind: ChangeKind): void {
    feed.subscribe(kind, {
      onChange: (m) => (m.keys === 'all' ? this.invalidateAll() : m.keys.forEach((k) => this.invalidate(k))),
      onTrust: (trusted) => this.setTrusted(trusted),
    });
  }

  get calculatedBytes(): number {
    return this.lru.calculatedSize + (this.negatives?.calculatedBytes ?? 0);
  }

  get isTrusted(): boolean {
    return this.trusted;
  }

  /** Synchronous look-up for callers that batch their own misses; undefined on a miss. */
  peek(key: string, nowMs: number): V | undefined {
    if (!this.trusted) return undefined;
    const v = this.lru.get(key);
    if (v === undefined) {
      return this.negatives?.has(key, nowMs) ? this.options.negative : undefined;
    }
    const exp = this.options.expiresAtMs?.(v);
    if (exp !== undefined && exp <= nowMs) {
      this.lru.delete(key);
      return undefined;
    }
    return v;
  }

  /** Returns the cached value, or loads it once for all concurrent callers of the same key. */
  get(key: string, load: (key: string) => Promise<V>, nowMs = Date.now()): Promise<V> | V {
    const hit = this.peek(key, nowMs);
    if (hit !== undefined) {
      this.stats.hits++;
      return hit;
    }
    if (!this.trusted) {
      this.stats.bypassed++;
      return load(key);
    }
    this.stats.misses++;
    const running = this.inFlight.get(key);
    if (running) return 'promise' in running ? running.promise : valueOf(running.loaded, key);
    const startedEpoch = this.epoch;
    const entry: InFlight<V> = { promise: undefined as unknown as Promise<V>, stale: false };
    entry.promise = load(key).then(
      (value) => {
        if (this.inFlight.get(key) === entry) this.inFlight.delete(key);
        if (!entry.stale && startedEpoch === this.epoch && this.trusted) this.store(key, value, nowMs);
        return value;
      },
      (err: unknown) => {
        if (this.inFlight.get(key) === entry) this.inFlight.delete(key);
        throw err;
      },
    );
    this.inFlight.set(key, entry);
    return entry.promise;
  }

  /**
   * `get` for many keys with one load for all their misses: each key's value goes into `into` (through `as`), hits at
   * once, the rest when loaded; the promise, if any, settles once every key is there. `loadMany` answers every key it
   * is given. Same coherence as `get`: a value loaded across an invalidation of its key is handed out, not stored.
   */
  getMany<R>(
    keys: Iterable<string>,
    loadMany: (keys: string[]) => Promise<ReadonlyMap<string, V>>,
    nowMs: number,
    into: Map<string, R>,
    as: (key: string, value: V) => R,
  ): Promise<void> | undefined {
    const missing: string[] = [];
    let joined: Promise<void>[] | undefined;
    const batch: BatchInFlight<V> = {
      loaded: undefined as unknown as Promise<ReadonlyMap<string, V>>,
      stale: false,
    };
    for (const key of keys) {
      if (into.has(key)) continue;
      const hit = this.peek(key, nowMs);
      if (hit !== undefined) {
        this.stats.hits++;
        into.set(key, as(key, hit));
        continue;
      }
      if (!this.trusted) {
        this.stats.bypassed++;
        missing.push(key);
        continue;
      }
      const running = this.inFlight.get(key);
      if (running === batch) continue; // a duplicate key
      this.stats.misses++;
      if (running) {
        const p = 'promise' in running ? running.promise : valueOf(running.loaded, key);
        (joined ??= []).push(p.then((v) => void into.set(key, as(key, v))));
        continue;
      }
      missing.push(key);
      this.inFlight.set(key, batch);
    }
    if (missing.length === 0) return joined && Promise.all(joined).then(noop);
    const startedEpoch = this.epoch;
    batch.loaded = loadMany(missing).then(
      (found) => {
        for (const key of missing) {
          const value = found.get(key) as V;
          into.set(key, as(key, value));
          // Still registered under this key: neither invalidated nor flushed (nor bypassed) since the load began.
          if (this.inFlight.get(key) !== batch) continue;
          this.inFlight.delete(key);
          if (!batch.stale && startedEpoch === this.epoch && this.trusted) this.store(key, value, nowMs);
        }
        return found;
      },
      (err: unknown) => {
        for (const key of missing) if (this.inFlight.get(key) === batch) this.inFlight.delete(key);
        throw err;
      },
    );
    return joined ? Promise.all([batch.loaded, ...joined]).then(noop) : batch.loaded.then(noop);
  }

  /** A "nothing there" value goes to the negative set when there is one, any other to the LRU; never both. */
  private store(key: string, value: V, nowMs: number): void {
    const negatives = this.negatives;
    if (negatives === undefined) {
      this.lru.set(key, value);
    } else if (value === this.options.negative) {
      this.lru.delete(key);
      negatives.add(key, nowMs);
    } else {
      negatives.delete(key);
      this.lru.set(key, value);
    }
  }

  invalidate(key: string): void {
    this.lru.delete(key);
    this.negatives?.delete(key);
    const running = this.inFlight.get(key);
    if (running) {
      // A batch needs no mark: it stores only the keys still registered to it.
      if ('promise' in running) running.stale = true;
      this.inFlight.delete(key);
    }
  }

  invalidateAll(): void {
    this.epoch++;
    this.lru.clear();
    this.negatives?.clear();
    for (const entry of this.inFlight.values()) entry.stale = true;
    this.inFlight.clear();
  }

  /** Called by the change feed: untrusted means flushed and bypassed until the channel is back. */
  setTrusted(trusted: boolean): void {
    this.invalidateAll();
    this.trusted = trusted;
  }

  /** Deletes every entry whose value matches; for invalidations that name a group (an account) not a key. */
  invalidateWhere(match: (value: V) => boolean): void {
    this.epoch++;
    for (const [k, v] of this.lru.entries()) if (match(v)) this.lru.delete(k);
    if (this.options.negative !== undefined && match(this.options.negative)) this.negatives?.clear();
    for (const entry of this.inFlight.values()) entry.stale = true;
    this.inFlight.clear();
  }
}

function noop(): void {}

/** One key's value out of a batch load, for a caller that joins it. */
function valueOf<V>(loaded: Promise<ReadonlyMap<string, V>>, key: string): Promise<V> {
  return loaded.then((m) => m.get(key) as V);
}
