import fc from 'fast-check';
import { balance, type BucketLimits, fullBucket, take, waitMs } from './token-bucket.js';

/** One request: how long after the previous one it comes (ms), and how many names it asks for. */
const requests = fc.array(
  fc.record({ gapMs: fc.integer({ min: 0, max: 3000 }), cost: fc.integer({ min: 1, max: 1000 }) }),
  { maxLength: 200 },
);
const limits = fc.record({
  ratePerSecond: fc.integer({ min: 1, max: 20_000 }),
  burst: fc.integer({ min: 1, max: 20_000 }),
});

/**
 * The reference: the same budget written the plain way, as a simulation in whole milliseconds — each millisecond adds
 * rate/1000 tokens up to the burst; a request is admitted while the balance is not below zero and takes its whole cost.
 */
class SimulatedBucket {
  private tokens: number;
  private atMs = 0;
  constructor(private readonly l: BucketLimits) {
    this.tokens = l.burst;
  }
  request(nowMs: number, cost: number): boolean {
    for (; this.atMs < nowMs; this.atMs++) {
      this.tokens = Math.min(this.l.burst, this.tokens + this.l.ratePerSecond / 1000);
    }
    if (this.tokens < 0) return false;
    this.tokens -= cost;
    return true;
  }
}

function run(l: BucketLimits, rs: Array<{ gapMs: number; cost: number }>) {
  const state = fullBucket(l, 0);
  let now = 0;
  return rs.map(({ gapMs, cost }) => {
    now += gapMs;
    const before = balance(state, l, now);
    return { now, cost, before, admitted: take(state, l, cost, now) === 0 };
  });
}

describe('token bucket with overdraft', () => {
  it('admits exactly what a millisecond-by-millisecond simulation of the same budget admits', () => {
    fc.assert(
      fc.property(limits, requests, (l, rs) => {
        const reference = new SimulatedBucket(l);
        for (const r of run(l, rs)) {
          const expected = reference.request(r.now, r.cost);
          // At a balance of about zero the simulation's summed floats and the formula may round apart.
          if (Math.abs(r.before) > 1e-6) expect(r.admitted).toBe(expected);
        }
      }),
    );
  });

  it('never lets more through than the burst, the refill and one request over any window', () => {
    fc.assert(
      fc.property(limits, requests, (l, rs) => {
        const admitted = run(l, rs).filter((r) => r.admitted);
        for (let i = 0; i < admitted.length; i++) {
          let sum = 0;
          for (let j = i; j < admitted.length; j++) {
            sum += admitted[j].cost;
            const windowMs = admitted[j].now - admitted[i].now;
            expect(sum).toBeLessThanOrEqual(
              l.burst + (l.ratePerSecond * windowMs) / 1000 + admitted[j].cost + 1e-6,
            );
          }
        }
      }),
    );
  });

  it('admits a refused request once the wait it was told has passed, not before, and a refusal takes nothing', () => {
    fc.assert(
      fc.property(limits, requests, fc.integer({ min: 1, max: 1000 }), (l, rs, cost) => {
        const state = fullBucket(l, 0);
        let now = 0;
        for (const r of rs) take(state, l, r.cost, (now += r.gapMs));
        const before = balance(state, l, now);
        const told = waitMs(state, l, now);
        const wait = take(state, l, cost, now);
        expect(wait).toBe(told);
        if (wait === 0) return;
        expect(balance(state, l, now)).toBe(before);
        if (wait > 1) expect(take(state, l, cost, now + wait - 1)).toBeGreaterThan(0);
        expect(take(state, l, cost, now + wait + 1e-6)).toBe(0);
      }),
    );
  });

  it('refills to the burst, never beyond, and a clock that goes back refills nothing', () => {
    const l = { ratePerSecond: 1000, burst: 2000 };
    const state = fullBucket(l, 10_000);
    expect(take(state, l, 2500, 10_000)).toBe(0);
    expect(balance(state, l, 9_000)).toBe(-500);
    expect(waitMs(state, l, 10_000)).toBe(500);
    expect(balance(state, l, 11_000)).toBe(500);
    expect(balance(state, l, 60_000)).toBe(2000);
    expect(take(state, l, 1, 10_000)).toBe(500);
  });
});
