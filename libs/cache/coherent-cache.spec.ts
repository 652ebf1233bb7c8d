import fc from 'fast-check';
import { CoherentCache } from './coherent-cache.js';

type Box = { v: number };

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

function cache(overrides: Partial<ConstructorParameters<typeof CoherentCache<Box>>[0]> = {}) {
  return new CoherentCache<Box>({
    maxEntries: 100,
    maxBytes: 10_000,
    ttlMs: 60_000,
    sizeOf: () => 10,
    ...overrides,
  });
}

describe('CoherentCache', () => {
  it('loads once for concurrent misses of the same key', async () => {
    const c = cache();
    let loads = 0;
    const d = deferred<Box>();
    const load = () => {
      loads++;
      return d.promise;
    };
    const a = c.get('k', load);
    const b = c.get('k', load);
    d.resolve({ v: 1 });
    expect(await a).toEqual({ v: 1 });
    expect(await b).toEqual({ v: 1 });
    expect(loads).toBe(1);
    expect(c.get('k', load)).toEqual({ v: 1 });
    expect(loads).toBe(1);
  });

  it('does not store a load that an invalidation overtook (the stale-fill race)', async () => {
    const c = cache();
    const slow = deferred<Box>();
    const first = c.get('k', () => slow.promise);
    // A write commits and its invalidation arrives while the old rows are still on their way.
    c.invalidate('k');
    slow.resolve({ v: 1 });
    expect(await first).toEqual({ v: 1 });
    // The next caller must not get the old value from the cache.
    const fresh = c.get('k', async () => ({ v: 2 }));
    expect(await fresh).toEqual({ v: 2 });
    expect(c.get('k', async () => ({ v: 3 }))).toEqual({ v: 2 });
  });

  it('does not store loads that a flush overtook', async () => {
    const c = cache();
    const slow = deferred<Box>();
    const first = c.get('k', () => slow.promise);
    c.invalidateAll();
    slow.resolve({ v: 1 });
    await first;
    expect(await c.get('k', async () => ({ v: 2 }))).toEqual({ v: 2 });
  });

  it('bypasses itself while untrusted and stores nothing', async () => {
    const c = cache();
    await c.get('k', async () => ({ v: 1 }));
    c.setTrusted(false);
    let loads = 0;
    const load = async () => ({ v: ++loads });
    expect(await c.get('k', load)).toEqual({ v: 1 });
    expect(await c.get('k', load)).toEqual({ v: 2 });
    expect(c.size).toBe(0);
    c.setTrusted(true);
    expect(await c.get('k', load)).toEqual({ v: 3 });
    expect(c.get('k', load)).toEqual({ v: 3 });
  });

  it('stops serving an entry at its expiry time', async () => {
    const c = cache({ expiresAtMs: (b) => b.v });
    await c.get('k', async () => ({ v: 1000 }), 0);
    expect(c.peek('k', 999)).toEqual({ v: 1000 });
    expect(c.peek('k', 1000)).toBeUndefined();
  });

  it('stays within its byte and entry bounds whatever is stored', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.string({ maxLength: 4 }), fc.integer({ min: 1, max: 300 })), { maxLength: 200 }),
        async (ops) => {
          const c = new CoherentCache<Box>({
            maxEntries: 20,
            maxBytes: 1000,
            ttlMs: 60_000,
            sizeOf: (b) => b.v,
          });
          for (const [k, size] of ops) await c.get(k, async () => ({ v: size }));
          return c.size <= 20 && c.calculatedBytes <= 1000;
        },
      ),
    );
  });

  it('never serves a value older than the last invalidation of its key (random interleavings)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.constant('write' as const),
            fc.constant('read' as const),
            fc.constant('settle' as const),
          ),
          {
            maxLength: 60,
          },
        ),
        async (ops) => {
          // The "database" holds a version; a write bumps it and invalidates, like a commit plus its notification.
          let version = 0;
          const c = cache();
          const running: Array<{ d: ReturnType<typeof deferred<Box>>; seen: number }> = [];
          const load = () => {
            const d = deferred<Box>();
            running.push({ d, seen: version });
            return d.promise;
          };
          for (const op of ops) {
            if (op === 'write') {
              version++;
              c.invalidate('k');
            } else if (op === 'settle') {
              const r = running.shift();
              r?.d.resolve({ v: r.seen });
              await Promise.resolve();
              await Promise.resolve();
            } else {
              const hit = c.peek('k', Date.now());
              if (hit && hit.v !== version) return false;
              void c.get('k', load);
            }
          }
          return true;
        },
      ),
    );
  });

  describe('with a negative value kept apart', () => {
    const NOTHING: Box = { v: -1 };
    const split = (maxEntries: number) =>
      new CoherentCache<Box>({
        maxEntries,
        maxBytes: 1e9,
        ttlMs: 60_000,
        sizeOf: () => 10,
        negative: NOTHING,
      });

    it('never lets keys that hold nothing evict keys that hold a value', async () => {
      const c = split(80); // 70 for values, 10 for keys that hold nothing
      for (let i = 0; i < 70; i++) await c.get(`hot${i}`, async () => ({ v: i }));
      for (let i = 0; i < 10_000; i++) await c.get(`scan${i}`, async () => NOTHING);
      for (let i = 0; i < 70; i++) expect(c.peek(`hot${i}`, Date.now())).toEqual({ v: i });
      // The last keys of the scan are still known to hold nothing, within the negative share.
      expect(c.peek('scan9999', Date.now())).toBe(NOTHING);
      expect(c.size).toBe(80);
      expect(c.snapshot.evictions).toBe(10_000 - 10);
    });

    it('without `negative` shares one LRU, where the same scan evicts the hot keys', async () => {
      const c = cache({ maxEntries: 80, maxBytes: 1e9 });
      for (let i = 0; i < 70; i++) await c.get(`hot${i}`, async () => ({ v: i }));
      for (let i = 0; i < 10_000; i++) await c.get(`scan${i}`, async () => NOTHING);
      expect(c.peek('hot0', Date.now())).toBeUndefined();
    });

    it('moves a key between the two when what it holds changes, and an invalidation clears it from both', async () => {
      const c = split(16);
      await c.get('k', async () => NOTHING);
      expect(c.peek('k', Date.now())).toBe(NOTHING);
      c.invalidate('k');
      expect(c.peek('k', Date.now())).toBeUndefined();
      await c.get('k', async () => ({ v: 1 }));
      expect(c.peek('k', Date.now())).toEqual({ v: 1 });
      expect(c.size).toBe(1);
      c.invalidateAll();
      expect(c.size).toBe(0);
    });

    /** Two plain LRUs as arrays, least recently used first: values, and keys holding nothing. */
    class TwoLrus {
      values: Array<[string, number]> = [];
      nothing: string[] = [];
      constructor(
        private readonly valueRoom: number,
        private readonly nothingRoom: number,
      ) {}
      peek(k: string): number | 'nothing' | undefined {
        const i = this.values.findIndex(([key]) => key === k);
        if (i >= 0) {
          const [e] = this.values.splice(i, 1);
          this.values.push(e);
          return e[1];
        }
        const j = this.nothing.indexOf(k);
        if (j < 0) return undefined;
        this.nothing.splice(j, 1);
        this.nothing.push(k);
        return 'nothing';
      }
      store(k: string, v: number | 'nothing'): void {
        this.drop(k);
        if (v === 'nothing') {
          if (this.nothing.length >= this.nothingRoom) this.nothing.shift();
          this.nothing.push(k);
        } else {
          if (this.values.length >= this.valueRoom) this.values.shift();
          this.values.push([k, v]);
        }
      }
      drop(k: string): void {
        this.values = this.values.filter(([key]) => key !== k);
        this.nothing = this.nothing.filter((key) => key !== k);
      }
    }

    it('answers as two plain LRUs would, for any sequence of loads, reads and invalidations', async () => {
      const key = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j');
      const op = fc.oneof(
        fc.record({ kind: fc.constant('load' as const), key, v: fc.oneof(fc.constant(-1), fc.nat(9)) }),
        fc.record({ kind: fc.constant('peek' as const), key }),
        fc.record({ kind: fc.constant('invalidate' as const), key }),
        fc.record({ kind: fc.constant('flush' as const) }),
      );
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 2, max: 24 }),
          fc.array(op, { maxLength: 80 }),
          async (max, ops) => {
            const c = split(max);
            const nothingRoom = Math.max(1, Math.floor(max / 8));
            const model = new TwoLrus(max - nothingRoom, nothingRoom);
            for (const o of ops) {
              if (o.kind === 'load') {
                // A load happens on a miss only, as in the index; a hit is a read.
                const seen = model.peek(o.key);
                const got = await c.get(o.key, async () => (o.v === -1 ? NOTHING : { v: o.v }));
                if (seen === undefined) model.store(o.key, o.v === -1 ? 'nothing' : o.v);
                else expect(got === NOTHING ? 'nothing' : got.v).toBe(seen);
              } else if (o.kind === 'peek') {
                const got = c.peek(o.key, Date.now());
                expect(got === undefined ? undefined : got === NOTHING ? 'nothing' : got.v).toBe(
                  model.peek(o.key),
                );
              } else if (o.kind === 'invalidate') {
                c.invalidate(o.key);
                model.drop(o.key);
              } else {
                c.invalidateAll();
                model.values = [];
                model.nothing = [];
              }
              expect(c.size).toBe(model.values.length + model.nothing.length);
              expect(c.size).toBeLessThanOrEqual(max);
            }
          },
        ),
        { numRuns: 300 },
      );
    });

    it('never serves a value or a "nothing" older than the last invalidation of its key', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.constantFrom('write' as const, 'read' as const, 'settle' as const), { maxLength: 60 }),
          async (ops) => {
            // Even versions of the "database" hold nothing, odd ones a value.
            let version = 0;
            const c = split(16);
            const running: Array<{ d: ReturnType<typeof deferred<Box>>; seen: number }> = [];
            const load = () => {
              const d = deferred<Box>();
              running.push({ d, seen: version });
              return d.promise;
            };
            for (const op of ops) {
              if (op === 'write') {
                version++;
                c.invalidate('k');
              } else if (op === 'settle') {
                const r = running.shift();
                r?.d.resolve(r.seen % 2 === 0 ? NOTHING : { v: r.seen });
                await Promise.resolve();
                await Promise.resolve();
              } else {
                const hit = c.peek('k', Date.now());
                if (hit === NOTHING && version % 2 !== 0) return false;
                if (hit && hit !== NOTHING && hit.v !== version) return false;
                void c.get('k', load);
              }
            }
            return true;
          },
        ),
      );
    });
  });
});
