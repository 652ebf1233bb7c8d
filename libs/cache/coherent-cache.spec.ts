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
});
