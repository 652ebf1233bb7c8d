/**
 * Names known to resolve to nothing, kept apart from the cache of rows so that they can never evict a name that
 * resolves (issue #21: one tenant resolving 1.2M random names evicted all of another tenant's warm names).
 *
 * A least-recently-used set bounded in entries and in bytes. Kept as one Map from name to the second it was stored
 * at (a small integer, so no object and no boxed number per entry): a flood of distinct names leaves behind only its
 * strings, and only as many as the bounds allow. Map iteration order is insertion order, so the oldest entry is the
 * first key and a hit moves its name to the end. Pure: the caller passes the time.
 */
export interface NegativeNamesOptions {
  maxEntries: number;
  maxBytes: number;
  ttlMs: number;
}

/** Heap bytes per entry beyond the name's characters: the Map's slot (key, value, chain, bucket) and the string header. */
export const NEGATIVE_ENTRY_BYTES = 40;

export class NegativeNames {
  private readonly stored = new Map<string, number>();
  private bytes = 0;
  /** Stored times count seconds from the first `add`, so they stay small integers (Smis) for years. */
  private originMs: number | undefined;
  /** Names dropped to make room (not those deleted on purpose). */
  evictions = 0;

  constructor(private readonly options: NegativeNamesOptions) {}

  get size(): number {
    return this.stored.size;
  }

  get calculatedBytes(): number {
    return this.bytes;
  }

  /** Whether `name` is known to resolve to nothing (and still fresh); a hit makes it the most recently used. */
  has(name: string, nowMs: number): boolean {
    const at = this.stored.get(name);
    if (at === undefined) return false;
    if (nowMs - (this.originMs as number) - at * 1000 >= this.options.ttlMs) {
      this.delete(name);
      return false;
    }
    this.stored.delete(name);
    this.stored.set(name, at);
    return true;
  }

  add(name: string, nowMs: number): void {
    const size = sizeOf(name);
    if (size > this.options.maxBytes) return;
    if (this.stored.has(name)) this.delete(name);
    while (this.stored.size >= this.options.maxEntries || this.bytes + size > this.options.maxBytes) {
      const oldest = this.stored.keys().next().value as string;
      this.delete(oldest);
      this.evictions++;
    }
    // Whole seconds: the TTL is a safety net measured in minutes, so an entry may outlive it by under a second.
    this.originMs ??= nowMs;
    this.stored.set(name, Math.floor((nowMs - this.originMs) / 1000));
    this.bytes += size;
  }

  delete(name: string): void {
    if (this.stored.delete(name)) this.bytes -= sizeOf(name);
  }

  clear(): void {
    this.stored.clear();
    this.bytes = 0;
  }

  /** Least recently used first. */
  names(): IterableIterator<string> {
    return this.stored.keys();
  }
}

function sizeOf(name: string): number {
  return name.length + NEGATIVE_ENTRY_BYTES;
}
