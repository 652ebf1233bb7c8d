interface Waiter<V> {
  resolve: (found: ReadonlyMap<string, V>) => void;
  reject: (e: unknown) => void;
}

/**
 * Collects the keys that miss during one turn of the event loop and loads them with one query
 * (`WHERE name = ANY($1)`), so a burst of cold lookups for different names costs one round trip, not one each.
 * setImmediate runs after the current I/O phase, i.e. after every request that arrived together was parsed.
 *
 * A waiter is told the whole batch's answer, so a caller missing 1,000 names (POST /resolve) costs one promise and one
 * waiter, not a promise, two closures and a waiter per name. Those live across the query, so young GCs promote them:
 * in a sampling heap profile of the `memory` bench's fill they were the largest source of promoted garbage (≈ 250
 * bytes per name filled).
 */
export class MissBatcher<V> {
  private keys = new Set<string>();
  private waiters: Waiter<V>[] = [];
  private scheduled = false;

  constructor(
    private readonly loadMany: (keys: string[]) => Promise<Map<string, V>>,
    private readonly whenAbsent: (key: string) => V,
    private readonly maxBatch = 500,
  ) {}

  load(key: string): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      this.keys.add(key);
      this.wait({ resolve: (found) => resolve(found.get(key) as V), reject });
    });
  }

  /** Every key of `keys` is a key of the answer (absent ones with `whenAbsent`'s value). */
  loadAll(keys: Iterable<string>): Promise<ReadonlyMap<string, V>> {
    return new Promise((resolve, reject) => {
      for (const k of keys) this.keys.add(k);
      this.wait({ resolve, reject });
    });
  }

  private wait(w: Waiter<V>): void {
    this.waiters.push(w);
    if (this.keys.size >= this.maxBatch) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.scheduled = false;
    if (this.waiters.length === 0) return;
    const keys = this.keys;
    const waiters = this.waiters;
    this.keys = new Set();
    this.waiters = [];
    this.loadMany(Array.from(keys)).then(
      (found) => {
        for (const k of keys) if (!found.has(k)) found.set(k, this.whenAbsent(k));
        for (const w of waiters) w.resolve(found);
      },
      (err: unknown) => {
        for (const w of waiters) w.reject(err);
      },
    );
  }
}
