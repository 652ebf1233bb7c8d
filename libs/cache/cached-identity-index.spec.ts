import { CachedIdentityIndex } from './cached-identity-index.js';
import type { ChangeFeed, ChangeListener } from './change-feed.js';
import type { ChangeKind } from './change-message.js';
import { IdentityIndex } from '../store/identity-index.js';
import type { IdentityRow } from '../domain/model.js';
import { compileRuleCached } from '../domain/rules/index.js';

const TRUE_RULE = compileRuleCached('true');

/** The cached rows of a name as plain row objects (a packed row's view read out), or undefined on a miss. */
function peekRows(index: CachedIdentityIndex, name: string): readonly IdentityRow[] | undefined {
  return index.peekRows(name)?.map((r) => ({
    name: r.name,
    twin: r.twin,
    owner: r.owner,
    visibility: r.visibility,
    validityTs: r.validityTs,
    twinCreatedTs: r.twinCreatedTs,
    grantee: r.grantee,
  }));
}

// ---- fakes -------------------------------------------------------------------------------------------------------

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Lets every setImmediate scheduled so far (the miss batcher's flush) and the promise jobs after it run. */
const turn = () => new Promise<void>((r) => setImmediate(r));

/**
 * The index as PostgreSQL would answer it: each query reads the rows as they are when it starts (its snapshot),
 * and may be held open so a write and its invalidation can land while it is in flight.
 */
class FakeIndex extends IdentityIndex {
  readonly rows = new Map<string, IdentityRow[]>();
  readonly calls: string[][] = [];
  private gate: ReturnType<typeof deferred> | undefined;

  /** Queries started from now on wait until `release()`. */
  hold(): void {
    this.gate = deferred();
  }

  release(): void {
    this.gate?.resolve();
    this.gate = undefined;
  }

  write(name: string, rows: IdentityRow[]): void {
    this.rows.set(name, rows);
  }

  async lookup(name: string): Promise<IdentityRow[]> {
    return (await this.lookupMany([name])).get(name) ?? [];
  }

  async lookupMany(names: readonly string[]): Promise<Map<string, IdentityRow[]>> {
    this.calls.push([...names]);
    const snapshot = new Map<string, IdentityRow[]>(names.map((n) => [n, [...(this.rows.get(n) ?? [])]]));
    const gate = this.gate;
    if (gate) await gate.promise;
    return snapshot;
  }

  /** Waits until `n` queries have started (the batcher flushes on setImmediate). */
  async started(n: number): Promise<void> {
    for (let i = 0; i < 20 && this.calls.length < n; i++) await turn();
    expect(this.calls).toHaveLength(n);
  }
}

/** A ChangeFeed without PostgreSQL: the test delivers the notifications and the channel's ups and downs. */
class FakeFeed {
  private readonly listeners: Array<[ChangeKind, ChangeListener]> = [];

  subscribe(kind: ChangeKind, listener: ChangeListener): void {
    this.listeners.push([kind, listener]);
  }

  changed(kind: ChangeKind, keys: string[] | 'all'): void {
    for (const [k, l] of this.listeners) if (k === kind) l.onChange({ kind, sentMs: Date.now(), keys });
  }

  trust(trusted: boolean): void {
    for (const [, l] of this.listeners) l.onTrust(trusted);
  }
}

const TWIN_1 = '00000000-0000-4000-8000-000000000001';
const TWIN_2 = '00000000-0000-4000-8000-000000000002';
const OWNER = '00000000-0000-4000-8000-0000000000aa';

function aRow(name: string, attributes: Partial<IdentityRow> = {}): IdentityRow {
  return {
    name,
    twin: TWIN_1,
    owner: OWNER,
    visibility: null,
    validityTs: null,
    twinCreatedTs: 1_700_000_000,
    grantee: null,
    ...attributes,
  };
}

function setUp(options: { maxEntries?: number; maxBytes?: number; ttlMs?: number } = {}) {
  const inner = new FakeIndex();
  const feed = new FakeFeed();
  const clock = { now: 1_800_000_000_000 };
  const index = new CachedIdentityIndex(
    inner,
    feed as unknown as ChangeFeed,
    { maxEntries: 1000, maxBytes: 1_000_000, ttlMs: 600_000, ...options },
    () => clock.now,
  );
  return { inner, feed, clock, index };
}

// ---- tests -------------------------------------------------------------------------------------------------------

describe('CachedIdentityIndex', () => {
  describe('the stale-fill race (docs/resolution.md)', () => {
    it.each([
      ['a change notification', 'feed'],
      ["the writing instance's own eviction", 'writer'],
    ] as const)(
      'never stores rows read before a write whose invalidation arrived while the read was in flight (%s)',
      async (_label, via) => {
        const { inner, feed, index } = setUp();
        const name = 'RFID#race';
        inner.write(name, [aRow(name)]);

        // A miss starts an index query, which is slow.
        inner.hold();
        const first = index.lookup(name);
        await inner.started(1);

        // A write commits and its invalidation arrives before the query returns: there is nothing to evict yet.
        const written = [aRow(name), aRow(name, { twin: TWIN_2 })];
        inner.write(name, written);
        if (via === 'feed') feed.changed('i', [name]);
        else index.invalidate([name]);

        // The query returns the old rows; its own caller began before the write and may have them.
        inner.release();
        expect(await first).toEqual([aRow(name)]);

        // The next lookup must not be served the old rows from the cache: it asks the index again.
        expect(await index.lookup(name)).toEqual(written);
        expect(inner.calls).toHaveLength(2);
        // And the fresh answer is what gets cached.
        expect(await index.lookup(name)).toEqual(written);
        expect(inner.calls).toHaveLength(2);
      },
    );

    it('also drops the stale fill when the invalidation lands before the batched query is even sent', async () => {
      const { inner, feed, index } = setUp();
      const name = 'RFID#early';
      inner.write(name, [aRow(name)]);
      const first = index.lookup(name);
      // Same tick: the miss is still waiting in the batcher.
      inner.write(name, []);
      feed.changed('i', [name]);
      expect(await first).toEqual([]);
      expect(await index.lookup(name)).toEqual([]);
    });

    it('re-reads only the invalidated name of a batch that was in flight', async () => {
      const { inner, feed, index } = setUp();
      inner.write('RFID#a', [aRow('RFID#a')]);
      inner.write('RFID#b', [aRow('RFID#b')]);
      inner.hold();
      const pending = index.lookupMany(['RFID#a', 'RFID#b']);
      await inner.started(1);
      inner.write('RFID#a', [aRow('RFID#a', { visibility: TRUE_RULE })]);
      feed.changed('i', ['RFID#a']);
      inner.release();
      await pending;

      const again = await index.lookupMany(['RFID#a', 'RFID#b']);
      expect(again.get('RFID#a')).toEqual([aRow('RFID#a', { visibility: TRUE_RULE })]);
      expect(again.get('RFID#b')).toEqual([aRow('RFID#b')]);
      expect(inner.calls).toEqual([['RFID#a', 'RFID#b'], ['RFID#a']]);
    });

    it('never stores a batch fill that a flush overtook, and hands it to its own caller', async () => {
      const { inner, feed, index } = setUp();
      inner.write('RFID#a', [aRow('RFID#a')]);
      inner.write('RFID#b', [aRow('RFID#b')]);
      inner.hold();
      const pending = index.lookupMany(['RFID#a', 'RFID#b']);
      await inner.started(1);
      inner.write('RFID#a', []);
      feed.changed('i', 'all');
      inner.release();
      expect((await pending).get('RFID#a')).toEqual([aRow('RFID#a')]);
      expect((await index.lookupMany(['RFID#a', 'RFID#b'])).get('RFID#a')).toEqual([]);
      expect(inner.calls).toEqual([
        ['RFID#a', 'RFID#b'],
        ['RFID#a', 'RFID#b'],
      ]);
    });

    it('lets a single lookup join a batch in flight instead of querying again', async () => {
      const { inner, index } = setUp();
      inner.write('RFID#a', [aRow('RFID#a')]);
      inner.hold();
      const many = index.lookupMany(['RFID#a', 'RFID#none', 'RFID#a']);
      await inner.started(1);
      const one = index.lookup('RFID#a');
      const none = index.lookup('RFID#none');
      inner.release();
      expect(await one).toEqual([aRow('RFID#a')]);
      expect(await none).toEqual([]);
      expect(await many).toEqual(
        new Map([
          ['RFID#a', [aRow('RFID#a')]],
          ['RFID#none', []],
        ]),
      );
      expect(inner.calls).toEqual([['RFID#a', 'RFID#none']]);
    });

    it('never stores a fill that a trust loss overtook, even once trust is back', async () => {
      const { inner, feed, index } = setUp();
      const name = 'RFID#outage';
      inner.write(name, [aRow(name)]);
      inner.hold();
      const first = index.lookup(name);
      await inner.started(1);
      feed.trust(false);
      inner.write(name, []);
      feed.trust(true);
      inner.release();
      await first;
      expect(await index.lookup(name)).toEqual([]);
      expect(inner.calls).toHaveLength(2);
    });
  });

  describe('misses', () => {
    it('costs one index query for concurrent misses of the same name', async () => {
      const { inner, index } = setUp();
      const name = 'RFID#stampede';
      inner.write(name, [aRow(name)]);
      inner.hold();
      const lookups = [
        index.lookup(name),
        index.lookup(name),
        index.lookupMany([name, name]),
        index.lookup(name),
      ];
      await inner.started(1);
      // Still in flight after the batch left: later misses join it rather than querying again.
      lookups.push(index.lookup(name));
      inner.release();
      const [a, b, many, c, d] = await Promise.all(lookups);
      for (const rows of [a, b, c, d]) expect(rows).toEqual([aRow(name)]);
      expect((many as Map<string, IdentityRow[]>).get(name)).toEqual([aRow(name)]);
      expect(inner.calls).toEqual([[name]]);
    });

    it('loads misses of different names made in one tick with one lookupMany call', async () => {
      const { inner, index } = setUp();
      for (const n of ['RFID#1', 'RFID#2', 'RFID#3', 'RFID#4']) inner.write(n, [aRow(n)]);
      const answers = await Promise.all([
        index.lookup('RFID#1'),
        index.lookup('RFID#2'),
        index.lookupMany(['RFID#3', 'RFID#1', 'RFID#4', 'RFID#unknown']),
      ]);
      expect(inner.calls).toHaveLength(1);
      expect([...inner.calls[0]].sort()).toEqual(['RFID#1', 'RFID#2', 'RFID#3', 'RFID#4', 'RFID#unknown']);
      expect(answers[0]).toEqual([aRow('RFID#1')]);
      expect(answers[1]).toEqual([aRow('RFID#2')]);
      expect(answers[2]).toEqual(
        new Map([
          ['RFID#3', [aRow('RFID#3')]],
          ['RFID#1', [aRow('RFID#1')]],
          ['RFID#4', [aRow('RFID#4')]],
          ['RFID#unknown', []],
        ]),
      );
      // All cached now, the unknown name included.
      await index.lookupMany(['RFID#1', 'RFID#2', 'RFID#3', 'RFID#4', 'RFID#unknown']);
      expect(inner.calls).toHaveLength(1);
    });

    it('passes an index failure on and caches nothing for it', async () => {
      const { inner, index } = setUp();
      const failing = new (class extends FakeIndex {
        override async lookupMany(): Promise<Map<string, IdentityRow[]>> {
          throw new Error('db down');
        }
      })();
      const broken = new CachedIdentityIndex(
        failing,
        new FakeFeed() as unknown as ChangeFeed,
        { maxEntries: 10, maxBytes: 10_000, ttlMs: 60_000 },
        Date.now,
      );
      await expect(broken.lookup('RFID#x')).rejects.toThrow('db down');
      expect(broken.stats.size).toBe(0);
      // The healthy one is unaffected (no shared state).
      expect(await index.lookup('RFID#x')).toEqual([]);
      expect(inner.calls).toHaveLength(1);
    });
  });

  describe('negative entries', () => {
    it('caches an unknown name and evicts it when a notification names it', async () => {
      const { inner, feed, index } = setUp();
      const name = 'RFID#unknown';
      expect(await index.lookup(name)).toEqual([]);
      expect(await index.lookup(name)).toEqual([]);
      expect(inner.calls).toHaveLength(1);
      expect(index.stats.size).toBe(1);

      inner.write(name, [aRow(name)]);
      feed.changed('i', ['RFID#other', name]);
      expect(await index.lookup(name)).toEqual([aRow(name)]);
      expect(inner.calls).toHaveLength(2);
    });

    it('evicts exactly the names a notification lists', async () => {
      const { inner, feed, index } = setUp();
      await index.lookupMany(['RFID#a', 'RFID#b', 'RFID#c']);
      feed.changed('i', ['RFID#b']);
      // Notifications of other kinds are not about identity names.
      feed.changed('t', ['RFID#a']);
      feed.changed('a', ['RFID#c']);
      await index.lookupMany(['RFID#a', 'RFID#b', 'RFID#c']);
      expect(inner.calls).toEqual([['RFID#a', 'RFID#b', 'RFID#c'], ['RFID#b']]);
    });
  });

  describe('expiry', () => {
    it('stops serving an entry at the earliest validity_ts of its rows, without hiding its still-valid rows', async () => {
      const { inner, clock, index } = setUp();
      const name = 'RFID#expiring';
      const soon = aRow(name, { validityTs: (clock.now + 50) / 1000 });
      const later = aRow(name, { twin: TWIN_2, validityTs: (clock.now + 10_000) / 1000 });
      const forever = aRow(name, { owner: '00000000-0000-4000-8000-0000000000bb' });
      inner.write(name, [soon, later, forever]);

      expect(await index.lookup(name)).toEqual([soon, later, forever]);
      clock.now += 49;
      expect(peekRows(index, name)).toEqual([soon, later, forever]);
      expect(await index.lookup(name)).toEqual([soon, later, forever]);
      expect(inner.calls).toHaveLength(1);

      // At the instant the first row expires the entry is no longer served from the cache…
      clock.now += 1;
      expect(peekRows(index, name)).toBeUndefined();
      // …and the reload still carries the rows that are valid (the resolver drops the expired one per request).
      const reloaded = await index.lookup(name);
      expect(inner.calls).toHaveLength(2);
      expect(reloaded).toEqual(expect.arrayContaining([later, forever]));

      // The reloaded entry lives until the next expiry among its rows, then is reloaded once more.
      clock.now += 5_000;
      await index.lookup(name);
      expect(inner.calls).toHaveLength(2);
      clock.now += 5_000;
      expect(peekRows(index, name)).toBeUndefined();
      expect(await index.lookup(name)).toEqual(expect.arrayContaining([forever]));
      expect(inner.calls).toHaveLength(3);
      // Only rows without expiry left (the expired ones are dropped at load): it stays cached.
      clock.now += 1_000_000;
      await index.lookup(name);
      expect(inner.calls).toHaveLength(3);
    });
    it('leaves rows already expired at load out of the entry, and caches the name (they can never resolve again)', async () => {
      const { inner, clock, index } = setUp();
      const name = 'RFID#expired';
      const gone = aRow(name, { validityTs: (clock.now - 1) / 1000 });
      const valid = aRow(name, { twin: TWIN_2 });
      inner.write(name, [gone, valid]);
      expect(await index.lookup(name)).toEqual([valid]);
      inner.write(name, [gone]);
      index.invalidate([name]);
      expect(await index.lookup(name)).toEqual([]);
      expect(await index.lookup(name)).toEqual([]);
      expect(inner.calls).toHaveLength(2);
    });
  });

  describe('flush and trust', () => {
    it("reloads every name after a flush ('*') notification", async () => {
      const { inner, feed, index } = setUp();
      for (const n of ['RFID#a', 'RFID#b']) inner.write(n, [aRow(n)]);
      await index.lookupMany(['RFID#a', 'RFID#b', 'RFID#none']);
      for (const n of ['RFID#a', 'RFID#b', 'RFID#none']) inner.write(n, [aRow(n, { visibility: TRUE_RULE })]);
      feed.changed('i', 'all');
      expect(index.stats.size).toBe(0);
      const after = await index.lookupMany(['RFID#a', 'RFID#b', 'RFID#none']);
      for (const n of ['RFID#a', 'RFID#b', 'RFID#none'])
        expect(after.get(n)).toEqual([aRow(n, { visibility: TRUE_RULE })]);
      expect(inner.calls).toHaveLength(2);
    });

    it('flushes and bypasses itself while the channel is down, and caches again once it is back', async () => {
      const { inner, feed, index } = setUp();
      const name = 'RFID#trust';
      inner.write(name, [aRow(name)]);
      await index.lookup(name);
      expect(inner.calls).toHaveLength(1);

      feed.trust(false);
      expect(index.stats).toMatchObject({ trusted: false, size: 0 });
      expect(peekRows(index, name)).toBeUndefined();
      // Every lookup goes to the index, and sees writes at once although no notification arrives.
      // (Validity far ahead: rows already expired when loaded are left out of answers.)
      for (let i = 0; i < 3; i++) {
        inner.write(name, [aRow(name, { validityTs: 4e9 + i })]);
        expect(await index.lookup(name)).toEqual([aRow(name, { validityTs: 4e9 + i })]);
        expect((await index.lookupMany([name])).get(name)).toEqual([aRow(name, { validityTs: 4e9 + i })]);
      }
      expect(inner.calls).toHaveLength(7);
      expect(index.stats.size).toBe(0);
      expect(index.stats.bypassed).toBeGreaterThanOrEqual(6);

      // Back: flushed once more (writes missed meanwhile are not served), then cached again.
      feed.trust(true);
      inner.write(name, [aRow(name, { visibility: TRUE_RULE })]);
      expect(await index.lookup(name)).toEqual([aRow(name, { visibility: TRUE_RULE })]);
      expect(await index.lookup(name)).toEqual([aRow(name, { visibility: TRUE_RULE })]);
      expect(inner.calls).toHaveLength(8);
      expect(index.stats).toMatchObject({ trusted: true, size: 1 });
    });
  });

  describe('bounds', () => {
    it('keeps at most maxEntries entries and maxBytes bytes, counting evictions', async () => {
      const { inner, index } = setUp({ maxEntries: 20, maxBytes: 5_000 });
      const names = Array.from({ length: 200 }, (_, i) => `RFID#n${i}`);
      for (const [i, n] of names.entries()) {
        inner.write(
          n,
          Array.from({ length: i % 4 }, (_, k) =>
            aRow(n, { twin: `00000000-0000-4000-8000-${String(k).padStart(12, '0')}` }),
          ),
        );
      }
      for (let i = 0; i < names.length; i += 10) {
        const got = await index.lookupMany(names.slice(i, i + 10));
        for (const n of names.slice(i, i + 10)) expect(got.get(n)).toEqual(inner.rows.get(n));
        expect(index.stats.size).toBeLessThanOrEqual(20);
        expect(index.stats.bytes).toBeLessThanOrEqual(5_000);
      }
      expect(index.stats.evictions).toBeGreaterThan(0);
      for (const n of names) expect(await index.lookup(n)).toEqual(inner.rows.get(n));
    });
  });
});
