import { RateLimitedError } from '../domain/errors.js';
import { MAX_REFUSAL_PAUSE_MS, refuseAfterPause, ResolveShare } from './resolve-share.js';

const share = (rate: number, burst = 1000) =>
  new ResolveShare({ RESOLVE_NAMES_PER_SECOND_PER_ACCOUNT: rate, RESOLVE_BURST_NAMES: burst });

describe('ResolveShare', () => {
  it("refuses an account over its share with 429 rate_limited and a Retry-After, and leaves others' shares alone", () => {
    const s = share(100, 1000);
    // The burst, then one batch more on overdraft: 500 names owed at 100/s.
    expect(s.admit('x', 1000, 0)).toBeUndefined();
    expect(s.admit('x', 500, 0)).toBeUndefined();
    const refused = s.admit('x', 1, 10);
    expect(refused?.error).toBeInstanceOf(RateLimitedError);
    expect(refused?.error.subcode).toBe('rate_limited');
    expect(refused?.error.retryAfterSeconds).toBe(5);
    expect(s.refusalNow('x', 10)?.error.retryAfterSeconds).toBe(5);
    expect(s.admit('y', 1000, 10)).toBeUndefined();
    // The refusals took nothing: once the 500 are repaid, a call is admitted again.
    expect(s.refusalNow('x', 5001)).toBeUndefined();
    expect(s.admit('x', 1000, 5001)).toBeUndefined();
  });

  it('holds a refusal until the share would admit the call, and never longer than a second', () => {
    const s = share(100, 1000);
    s.admit('x', 1010, 0);
    // 10 names owed at 100/s: the share reopens in 100 ms.
    expect(s.refusalNow('x', 0)?.pauseMs).toBeCloseTo(100);
    s.admit('y', 1000, 0);
    s.admit('y', 1000, 0);
    expect(s.refusalNow('y', 0)?.pauseMs).toBe(MAX_REFUSAL_PAUSE_MS);
  });

  it('checks without taking: an account it has not seen, or one within its share, is open', () => {
    const s = share(100, 1000);
    expect(s.refusalNow('new', 0)).toBeUndefined();
    s.admit('x', 999, 0);
    for (let i = 0; i < 10; i++) expect(s.refusalNow('x', 0)).toBeUndefined();
    s.admit('x', 2, 0);
    expect(s.refusalNow('x', 0)).toBeDefined();
  });

  it('is off at 0', () => {
    const s = share(0);
    const refused = Array.from({ length: 100 }, () => s.admit('x', 1000, 0));
    expect(refused.filter(Boolean)).toHaveLength(0);
  });

  it('keeps a bounded number of buckets: refilled ones are dropped, and start full again', () => {
    const s = share(1000, 1000);
    for (let i = 0; i < 10_000; i++) s.admit(`a${i}`, 1000, 0);
    const buckets = (s as unknown as { buckets: Map<string, unknown> }).buckets;
    expect(buckets.size).toBe(10_000);
    // A second later all of them have refilled: the next new account prunes them.
    s.admit('late', 1, 1000);
    expect(buckets.size).toBe(1);
    s.admit('a0', 1001, 1000);
    expect(s.refusalNow('a0', 1000)).toBeDefined();
  });

  it('answers a refusal once its pause is over', async () => {
    const s = share(100, 1000);
    s.admit('x', 1005, 0);
    const refused = s.refusalNow('x', 0);
    expect(refused).toBeDefined();
    const started = performance.now();
    await expect(refuseAfterPause(refused!)).rejects.toBe(refused!.error);
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
  });
});
