import { LRUCache } from 'lru-cache';

/**
 * Names known to resolve to nothing, kept apart from the cache of rows so that they can never evict a name that
 * resolves (issue #21: one tenant resolving 1.2M random names evicted all of another tenant's warm names).
 *
 * A least-recently-used set bounded in entries and in bytes: an LRUCache from name to the second it was stored at (a
 * small integer, so no object and no boxed number per entry; lru-cache keeps its order in preallocated typed arrays).
 * A flood of distinct names leaves behind only its strings, and only as many as the bounds allow. A plain Map in
 * insertion order was tried first and was quadratic under a flood: each eviction's `keys().next()` walks past every
 * slot deleted before it. Pure: the caller passes the time; the lifetime is checked here, not by lru-cache's clock.
 */
export interface NegativeNamesOptions {
  maxEntries: number;
  maxBytes: number;
  ttlMs: number;
}

/** Heap bytes per entry beyond the name's characters: the key map's slot, the order arrays' slots, the string header. */
export const NEGATIVE_ENTRY_BYTES = 40;

export class NegativeNames {
  private readonly stored: LRUCache<string, number>;
  /** Stored times count seconds from the first `add`, so they stay small integers (Smis) for years. */
  private originMs: number | undefined;
  /** Names dropped to make room (not those deleted on purpose). */
  evictions = 0;

  constructor(private readonly options: NegativeNamesOptions) {
    this.stored = new LRUCache<string, number>({
      max: options.maxEntries,
      maxSize: options.maxBytes,
      sizeCalculation: (_at, name) => sizeOf(name),
      dispose: (_at, _name, reason) => {
        if (reason === 'evict') this.evictions++;
      },
    });
  }

  get size(): number {
    return this.stored.size;
  }

  get calculatedBytes(): number {
    return this.stored.calculatedSize;
  }

  /** Whether `name` is known to resolve to nothing (and still fresh); a hit makes it the most recently used. */
  has(name: string, nowMs: number): boolean {
    const at = this.stored.get(name);
    if (at === undefined) return false;
    if (nowMs - (this.originMs as number) - at * 1000 >= this.options.ttlMs) {
      this.stored.delete(name);
      return false;
    }
    return true;
  }

  add(name: string, nowMs: number): void {
    if (sizeOf(name) > this.options.maxBytes) return;
    // Whole seconds: the TTL is a safety net measured in minutes, so an entry may outlive it by under a second.
    this.originMs ??= nowMs;
    this.stored.set(name, Math.floor((nowMs - this.originMs) / 1000));
  }

  delete(name: string): void {
    this.stored.delete(name);
  }

  clear(): void {
    this.stored.clear();
  }

  /** Least recently used first. */
  names(): IterableIterator<string> {
    return this.stored.rkeys();
  }
}

function sizeOf(name: string): number {
  return name.length + NEGATIVE_ENTRY_BYTES;
}
