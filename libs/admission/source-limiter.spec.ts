import { SourceLimiter } from './source-limiter.js';

describe('SourceLimiter', () => {
  it('never has more calls in flight than its concurrency', async () => {
    const limiter = new SourceLimiter({ concurrency: 3, ratePerSecond: 100_000 });
    let inFlight = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 20 }, () =>
        limiter.run(async () => {
          peak = Math.max(peak, ++inFlight);
          await new Promise((r) => setTimeout(r, 2));
          inFlight--;
        }),
      ),
    );
    expect(peak).toBe(3);
  });

  it('spaces call starts by the rate, and honours a pause', async () => {
    let now = 0;
    const waits: number[] = [];
    const limiter = new SourceLimiter(
      { concurrency: 10, ratePerSecond: 10 },
      () => now,
      async (ms) => {
        waits.push(ms);
        now += ms;
      },
    );
    for (let i = 0; i < 3; i++) await limiter.run(async () => undefined);
    expect(waits).toEqual([100, 100]);
    limiter.pauseUntil(now + 5000);
    await limiter.run(async () => undefined);
    expect(waits[waits.length - 1]).toBe(5000);
  });
});
