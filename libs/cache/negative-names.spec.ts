import fc from 'fast-check';
import { NEGATIVE_ENTRY_BYTES, NegativeNames } from './negative-names.js';

/** The plainest LRU set: an array, least recently used first, with the time each name was stored. */
class ReferenceNegativeNames {
  entries: Array<{ name: string; storedMs: number }> = [];
  origin: number | undefined;
  evictions = 0;

  constructor(private readonly o: { maxEntries: number; maxBytes: number; ttlMs: number }) {}

  bytes(): number {
    return this.entries.reduce((sum, e) => sum + e.name.length + NEGATIVE_ENTRY_BYTES, 0);
  }

  has(name: string, now: number): boolean {
    const i = this.entries.findIndex((e) => e.name === name);
    if (i < 0) return false;
    const [e] = this.entries.splice(i, 1);
    if (now - e.storedMs >= this.o.ttlMs) return false;
    this.entries.push(e);
    return true;
  }

  add(name: string, now: number): void {
    const size = name.length + NEGATIVE_ENTRY_BYTES;
    if (size > this.o.maxBytes) return;
    this.entries = this.entries.filter((e) => e.name !== name);
    while (this.entries.length >= this.o.maxEntries || this.bytes() + size > this.o.maxBytes) {
      this.entries.shift();
      this.evictions++;
    }
    this.origin ??= now;
    // Stored to the whole second after the first add, as the real one does.
    this.entries.push({ name, storedMs: this.origin + Math.floor((now - this.origin) / 1000) * 1000 });
  }

  delete(name: string): void {
    this.entries = this.entries.filter((e) => e.name !== name);
  }
}

type Op = { op: 'add' | 'has' | 'delete'; name: string } | { op: 'tick'; ms: number } | { op: 'clear' };

const aName = fc.constantFrom('A#1', 'A#2', 'B#long-value-3', 'C#4', 'D#5', 'E#66666666', 'F#7', 'G#8');
const anOp: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constantFrom('add' as const, 'has' as const, 'delete' as const), name: aName }),
  fc.record({ op: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 4000 }) }),
  fc.record({ op: fc.constant('clear' as const) }),
);

describe('NegativeNames', () => {
  const options = { maxEntries: 3, maxBytes: 10_000, ttlMs: 60_000 };

  it('keeps a name it was told of and forgets it when deleted', () => {
    const n = new NegativeNames(options);
    n.add('RFID#x', 0);
    expect(n.has('RFID#x', 1)).toBe(true);
    n.delete('RFID#x');
    expect(n.has('RFID#x', 2)).toBe(false);
    expect(n.calculatedBytes).toBe(0);
  });

  it('drops the least recently used name when full, counting it as an eviction', () => {
    const n = new NegativeNames(options);
    for (const name of ['a#1', 'a#2', 'a#3']) n.add(name, 0);
    expect(n.has('a#1', 0)).toBe(true); // a#2 is now the oldest
    n.add('a#4', 0);
    expect([...n.names()]).toEqual(['a#3', 'a#1', 'a#4']);
    expect(n.evictions).toBe(1);
  });

  it('holds to its byte bound', () => {
    const n = new NegativeNames({ maxEntries: 100, maxBytes: 2 * (NEGATIVE_ENTRY_BYTES + 3), ttlMs: 60_000 });
    for (const name of ['a#1', 'a#2', 'a#3']) n.add(name, 0);
    expect([...n.names()]).toEqual(['a#2', 'a#3']);
    expect(n.calculatedBytes).toBeLessThanOrEqual(2 * (NEGATIVE_ENTRY_BYTES + 3));
  });

  it('stops answering for a name once its lifetime has passed', () => {
    const n = new NegativeNames({ ...options, ttlMs: 5000 });
    n.add('a#1', 1_700_000_000_000);
    expect(n.has('a#1', 1_700_000_004_999)).toBe(true);
    expect(n.has('a#1', 1_700_000_005_000)).toBe(false);
    expect(n.size).toBe(0);
  });

  it('adds in constant time once full: a flood costs per name what filling did', () => {
    // Bounded relatively and loosely (a busy machine stretches both phases alike): a Map in insertion order, tried
    // first, took 40–60× longer per name once full, as every eviction walked past the slots deleted before it.
    const n = new NegativeNames({ maxEntries: 50_000, maxBytes: 1e9, ttlMs: 60_000 });
    const names = Array.from({ length: 300_000 }, (_, i) => `XRAND#${i.toString(36)}-${i}`);
    const timed = (from: number, to: number) => {
      const started = performance.now();
      for (let i = from; i < to; i++) n.add(names[i], 0);
      return (performance.now() - started) / (to - from);
    };
    const filling = timed(0, 50_000);
    const flooding = timed(50_000, 300_000);
    console.log(
      `µs per name: filling ${(filling * 1000).toFixed(2)}, flooding ${(flooding * 1000).toFixed(2)}`,
    );
    expect(n.size).toBe(50_000);
    expect(flooding).toBeLessThan(8 * filling);
  });

  it('behaves as the plain reference model for any sequence of operations', () => {
    fc.assert(
      fc.property(
        fc.record({
          maxEntries: fc.integer({ min: 1, max: 5 }),
          maxBytes: fc.integer({ min: NEGATIVE_ENTRY_BYTES, max: 4 * (NEGATIVE_ENTRY_BYTES + 14) }),
          ttlMs: fc.integer({ min: 1, max: 10_000 }),
        }),
        fc.integer({ min: 0, max: 2_000_000_000_000 }),
        fc.array(anOp, { maxLength: 60 }),
        (o, start, ops) => {
          const real = new NegativeNames(o);
          let model = new ReferenceNegativeNames(o);
          let now = start;
          for (const step of ops) {
            if (step.op === 'tick') now += step.ms;
            else if (step.op === 'clear') {
              real.clear();
              const evictions = model.evictions;
              const origin = model.origin;
              model = new ReferenceNegativeNames(o);
              model.evictions = evictions;
              model.origin = origin;
            } else if (step.op === 'has') expect(real.has(step.name, now)).toBe(model.has(step.name, now));
            else if (step.op === 'add') {
              real.add(step.name, now);
              model.add(step.name, now);
            } else {
              real.delete(step.name);
              model.delete(step.name);
            }
            expect([...real.names()]).toEqual(model.entries.map((e) => e.name));
            expect(real.calculatedBytes).toBe(model.bytes());
            expect(real.size).toBeLessThanOrEqual(o.maxEntries);
            expect(real.calculatedBytes).toBeLessThanOrEqual(o.maxBytes);
            expect(real.evictions).toBe(model.evictions);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
