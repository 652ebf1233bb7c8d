import { CachedTwinFactsIndex } from './cached-twin-facts-index.js';
import type { ChangeFeed, ChangeListener } from './change-feed.js';
import type { ChangeKind } from './change-message.js';
import { type IndexedTwin, TwinFactsIndex } from '../store/identity-index.js';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const turn = () => new Promise<void>((r) => setImmediate(r));

/** Twin facts as PostgreSQL answers them: read when the query starts, and the query can be held open. */
class FakeTwins extends TwinFactsIndex {
  readonly twins = new Map<string, IndexedTwin>();
  readonly calls: string[][] = [];
  private gate: ReturnType<typeof deferred> | undefined;

  hold(): void {
    this.gate = deferred();
  }

  release(): void {
    this.gate?.resolve();
    this.gate = undefined;
  }

  async twinFacts(uuids: readonly string[]): Promise<Map<string, IndexedTwin>> {
    this.calls.push([...uuids]);
    const snapshot = new Map<string, IndexedTwin>();
    for (const u of uuids) {
      const t = this.twins.get(u);
      if (t) snapshot.set(u, { ...t });
    }
    const gate = this.gate;
    if (gate) await gate.promise;
    return snapshot;
  }

  async started(n: number): Promise<void> {
    for (let i = 0; i < 20 && this.calls.length < n; i++) await turn();
    expect(this.calls).toHaveLength(n);
  }
}

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

const T1 = '00000000-0000-4000-8000-000000000001';
const T2 = '00000000-0000-4000-8000-000000000002';
const OWNER = '00000000-0000-4000-8000-0000000000aa';

function aTwin(uuid: string, attributes: Partial<IndexedTwin> = {}): IndexedTwin {
  return {
    uuid,
    owner: OWNER,
    status: 'alive',
    description: { kind: 'pallet' },
    createdTs: 1_700_000_000,
    creator: OWNER,
    updatedTs: 1_700_000_000,
    terminatedTs: null,
    terminator: null,
    ...attributes,
  };
}

function setUp() {
  const inner = new FakeTwins();
  const feed = new FakeFeed();
  const index = new CachedTwinFactsIndex(inner, feed as unknown as ChangeFeed, {
    maxEntries: 100,
    maxBytes: 1_000_000,
    ttlMs: 600_000,
  });
  return { inner, feed, index };
}

describe('CachedTwinFactsIndex', () => {
  it('never stores facts read before a change whose notification arrived while the read was in flight', async () => {
    const { inner, feed, index } = setUp();
    inner.twins.set(T1, aTwin(T1));
    inner.hold();
    const first = index.twinFacts([T1]);
    await inner.started(1);
    const terminated = aTwin(T1, { status: 'terminated', terminatedTs: 1_700_000_100, terminator: OWNER });
    inner.twins.set(T1, terminated);
    feed.changed('t', [T1]);
    inner.release();
    expect((await first).get(T1)).toEqual(aTwin(T1));
    expect((await index.twinFacts([T1])).get(T1)).toEqual(terminated);
    expect((await index.twinFacts([T1])).get(T1)).toEqual(terminated);
    expect(inner.calls).toHaveLength(2);
  });

  it("evicts on the writing process's own report of its commit", async () => {
    const { inner, index } = setUp();
    inner.twins.set(T1, aTwin(T1));
    await index.twinFacts([T1]);
    inner.twins.set(T1, aTwin(T1, { description: { kind: 'crate' } }));
    index.invalidate([T1]);
    expect((await index.twinFacts([T1])).get(T1)?.description).toEqual({ kind: 'crate' });
  });

  it('costs one query for concurrent misses, caches absent twins, and evicts only what a notification names', async () => {
    const { inner, feed, index } = setUp();
    inner.twins.set(T1, aTwin(T1));
    const [a, b] = await Promise.all([index.twinFacts([T1, T2]), index.twinFacts([T1, T1])]);
    expect([...a.keys()]).toEqual([T1]);
    expect([...b.keys()]).toEqual([T1]);
    expect(inner.calls).toEqual([[T1, T2]]);
    // T2 is absent and cached as such; a change to it (its creation) evicts that.
    inner.twins.set(T2, aTwin(T2));
    await index.twinFacts([T1, T2]);
    expect(inner.calls).toHaveLength(1);
    feed.changed('t', [T2]);
    feed.changed('i', [T1]);
    expect([...(await index.twinFacts([T1, T2])).keys()].sort()).toEqual([T1, T2]);
    expect(inner.calls).toEqual([[T1, T2], [T2]]);
  });

  it('flushes on a * notification and bypasses itself while the channel is down', async () => {
    const { inner, feed, index } = setUp();
    inner.twins.set(T1, aTwin(T1));
    await index.twinFacts([T1]);
    feed.changed('t', 'all');
    await index.twinFacts([T1]);
    expect(inner.calls).toHaveLength(2);

    feed.trust(false);
    for (let i = 0; i < 3; i++) {
      inner.twins.set(T1, aTwin(T1, { updatedTs: i }));
      expect((await index.twinFacts([T1])).get(T1)?.updatedTs).toBe(i);
    }
    expect(inner.calls).toHaveLength(5);
    expect(index.stats).toMatchObject({ trusted: false, size: 0 });
    feed.trust(true);
    await index.twinFacts([T1]);
    await index.twinFacts([T1]);
    expect(inner.calls).toHaveLength(6);
    expect(index.stats).toMatchObject({ trusted: true, size: 1 });
  });
});
