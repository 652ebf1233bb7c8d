/**
 * A report's progress in percent, as the run and import reports show it: 100 once the work is complete, otherwise
 * the share done, rounded down and never above 99, because the total may still grow while the work goes (a scan
 * adds twins page by page) and only completion may read as 100. No work counted yet (total 0): 0.
 */
export function reportProgress(complete: boolean, done: number, total: number): number {
  if (complete) return 100;
  if (total <= 0) return 0;
  return Math.min(99, Math.floor((100 * done) / total));
}
