import { timeBoxedCounts } from './time-boxed-counts.js';

const STATES = ['waiting', 'active', 'delayed', 'failed', 'completed'] as const;

describe('timeBoxedCounts', () => {
  it('passes the counts through when Redis answers', async () => {
    const counts = { waiting: 2, active: 1, delayed: 0, failed: 3, completed: 4 };
    const read = timeBoxedCounts({ getJobCounts: async () => counts }, STATES, 100);
    await expect(read()).resolves.toEqual(counts);
  });

  it('gives up after the time box, and does not pile up reads while one is pending', async () => {
    let calls = 0;
    const read = timeBoxedCounts(
      {
        getJobCounts: () => {
          calls++;
          return new Promise<never>(() => undefined);
        },
      },
      STATES,
      50,
    );
    const started = Date.now();
    await expect(read()).resolves.toBeUndefined();
    await expect(read()).resolves.toBeUndefined();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(calls).toBe(1);
  });

  it('answers undefined when the read fails', async () => {
    const read = timeBoxedCounts(
      { getJobCounts: () => Promise.reject(new Error('ECONNREFUSED')) },
      STATES,
      100,
    );
    await expect(read()).resolves.toBeUndefined();
  });
});
