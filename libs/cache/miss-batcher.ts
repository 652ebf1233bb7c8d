/**
 * Collects the keys that miss during one turn of the event loop and loads them with one query
 * (`WHERE name = ANY($1)`), so a burst of cold lookups for different names costs one round trip, not one each.
 * setImmediate runs after the current I/O phase, i.e. after every request that arrived together was parsed.
 */
export class MissBatcher<V> {
  private pending = new Map<string, { resolve: (v: V) => void; reject: (e: unknown) => void }[]>();
  private scheduled = false;

  constructor(
    private readonly loadMany: (keys: string[]) => Promise<Map<string, V>>,
    private readonly whenAbsent: (key: string) => V,
    private readonly maxBatch = 500,
  ) {}

  load(key: string): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      const waiting = this.pending.get(key);
      if (waiting) waiting.push({ resolve, reject });
      else this.pending.set(key, [{ resolve, reject }]);
      if (this.pending.size >= this.maxBatch) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    const keys = Array.from(batch.keys());
    this.loadMany(keys).then(
      (found) => {
        for (const [key, waiters] of batch) {
          const value = found.get(key) ?? this.whenAbsent(key);
          for (const w of waiters) w.resolve(value);
        }
      },
      (err: unknown) => {
        for (const waiters of batch.values()) for (const w of waiters) w.reject(err);
      },
    );
  }
}
