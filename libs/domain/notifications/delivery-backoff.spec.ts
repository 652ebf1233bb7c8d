import fc from 'fast-check';
import { afterFailure, RETRY_WINDOW_SECONDS } from './delivery-backoff.js';

describe('delivery backoff', () => {
  it('grows exponentially from about a second, within jitter, capped at an hour', () => {
    const at = (failures: number, random: number) => afterFailure(failures, 0, 0, random);
    expect(at(1, 0)).toEqual({ kind: 'retry', at: 0.5 });
    expect(at(1, 0.999)).toMatchObject({ kind: 'retry' });
    expect(at(4, 0)).toEqual({ kind: 'retry', at: 4 });
    expect(at(40, 0.5)).toEqual({ kind: 'retry', at: 2700 });
  });

  it('honours a longer Retry-After', () => {
    expect(afterFailure(1, 0, 10, 0, 120)).toEqual({ kind: 'retry', at: 130 });
  });

  it('suspends once failing for 24 h', () => {
    expect(afterFailure(100, 0, RETRY_WINDOW_SECONDS, 0.5)).toEqual({ kind: 'suspend' });
  });

  it('always retries later than now and no later than an hour, inside the window', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.double({ min: 0, max: RETRY_WINDOW_SECONDS - 1, noNaN: true }),
        fc.double({ min: 0, max: 0.999999, noNaN: true }),
        fc.option(fc.integer({ min: 0, max: 100_000 }), { nil: undefined }),
        (failures, elapsed, random, retryAfter) => {
          const now = 1_765_000_000;
          const next = afterFailure(failures, now - elapsed, now, random, retryAfter);
          expect(next.kind).toBe('retry');
          if (next.kind === 'retry') {
            expect(next.at).toBeGreaterThan(now);
            expect(next.at).toBeLessThanOrEqual(now + 3600);
          }
        },
      ),
    );
  });
});
