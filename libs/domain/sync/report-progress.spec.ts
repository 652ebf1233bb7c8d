import { reportProgress } from './report-progress.js';

describe('report progress', () => {
  it('is 100 once complete, whatever the counts say', () => {
    expect(reportProgress(true, 0, 0)).toBe(100);
    expect(reportProgress(true, 3, 10)).toBe(100);
  });

  it('is 0 while nothing is counted yet', () => {
    expect(reportProgress(false, 0, 0)).toBe(0);
  });

  it('is the share done, rounded down', () => {
    expect(reportProgress(false, 1, 3)).toBe(33);
    expect(reportProgress(false, 2, 3)).toBe(66);
    expect(reportProgress(false, 50, 100)).toBe(50);
  });

  it('never reads 100 before completion, even with all counted work done (the total may still grow)', () => {
    expect(reportProgress(false, 10, 10)).toBe(99);
    expect(reportProgress(false, 999, 1000)).toBe(99);
    expect(reportProgress(false, 12, 10)).toBe(99);
  });
});
