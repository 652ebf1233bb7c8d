/**
 * The bounds every sync run's scan lives within, so an upstream cannot hold a worker slot forever (docs/sync.md,
 * "Runs that always end"). Pure: the caller counts pages and twins and passes the time elapsed in.
 */
export interface RunLimits {
  /** Pages one run may ask for. */
  maxPages: number;
  /** Distinct twins one run may queue. */
  maxTwins: number;
  /** Pages in a row that bring no twin new to the run (all seen already in this run, or none at all). */
  maxIdlePages: number;
  /** Wall-clock time from the run's start, across retries and resumes of its scan. */
  deadlineMs: number;
}

/** Where a scan stands after its latest page. */
export interface ScanTally {
  pages: number;
  /** Distinct twins the run has seen. */
  twins: number;
  /** Pages in a row, up to the latest, that brought no new twin. */
  idlePages: number;
}

export const EMPTY_TALLY: ScanTally = { pages: 0, twins: 0, idlePages: 0 };

/**
 * The tally after one more page. Progress is a twin this run has not seen before: a fresh cursor alone is not
 * progress, since an upstream can mint one per page without end.
 */
export function tallyPage(tally: ScanTally, newTwins: number): ScanTally {
  return {
    pages: tally.pages + 1,
    twins: tally.twins + newTwins,
    idlePages: newTwins > 0 ? 0 : tally.idlePages + 1,
  };
}

/** Why the scan must stop before asking for another page, or null while it may go on. */
export function runLimitReached(tally: ScanTally, limits: RunLimits, elapsedMs: number): string | null {
  if (elapsedMs >= limits.deadlineMs) return deadlineReason(limits);
  if (tally.idlePages >= limits.maxIdlePages) {
    return `no new twins in ${tally.idlePages} pages in a row (upstream keeps paging without progress)`;
  }
  if (tally.twins >= limits.maxTwins) return `the run reached its cap of ${limits.maxTwins} twins`;
  if (tally.pages >= limits.maxPages) return `the run reached its cap of ${limits.maxPages} pages`;
  return null;
}

export function deadlineReason(limits: RunLimits): string {
  return `the run passed its deadline of ${limits.deadlineMs} ms`;
}
