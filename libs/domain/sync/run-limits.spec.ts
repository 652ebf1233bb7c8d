import { EMPTY_TALLY, type RunLimits, runLimitReached, type ScanTally, tallyPage } from './run-limits.js';

const limits: RunLimits = { maxPages: 10, maxTwins: 500, maxIdlePages: 3, deadlineMs: 60_000 };
const tally = (t: Partial<ScanTally>): ScanTally => ({ ...EMPTY_TALLY, ...t });

describe('run limits', () => {
  it('counts a page of twins all seen before in the run as no progress, however fresh its cursor', () => {
    let t = tallyPage(EMPTY_TALLY, 50);
    expect(t).toEqual({ pages: 1, twins: 50, idlePages: 0 });
    t = tallyPage(t, 0);
    t = tallyPage(t, 0);
    expect(t.idlePages).toBe(2);
    expect(runLimitReached(t, limits, 0)).toBeNull();
    t = tallyPage(t, 0);
    expect(runLimitReached(t, limits, 0)).toBe(
      'no new twins in 3 pages in a row (upstream keeps paging without progress)',
    );
  });

  it('starts the idle count again at a page with one new twin', () => {
    const t = tallyPage(tally({ pages: 5, twins: 50, idlePages: 2 }), 1);
    expect(t).toEqual({ pages: 6, twins: 51, idlePages: 0 });
  });

  it('stops at the page cap and at the twin cap', () => {
    expect(runLimitReached(tally({ pages: 9, twins: 450 }), limits, 0)).toBeNull();
    expect(runLimitReached(tally({ pages: 10, twins: 450 }), limits, 0)).toBe(
      'the run reached its cap of 10 pages',
    );
    expect(runLimitReached(tally({ pages: 4, twins: 500 }), limits, 0)).toBe(
      'the run reached its cap of 500 twins',
    );
  });

  it('stops at the deadline before anything else', () => {
    expect(runLimitReached(tally({ pages: 1 }), limits, 59_999)).toBeNull();
    expect(runLimitReached(tally({ pages: 10, idlePages: 3 }), limits, 60_000)).toBe(
      'the run passed its deadline of 60000 ms',
    );
  });
});
