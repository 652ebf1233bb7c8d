import type { JobType, Queue } from 'bullmq';

/** A scrape waits at most this long for Redis; a queue that has not answered by then is left out of it. */
export const QUEUE_COUNTS_TIMEOUT_MS = 500;

/**
 * Reads a queue's job counts in `states`, giving up after `timeoutMs` with `undefined`. While a read is still
 * pending (Redis down: BullMQ keeps the command queued), later calls join it rather than pile up new ones — a
 * Prometheus scraping every few seconds would otherwise grow the queued commands without bound.
 */
export function timeBoxedCounts<S extends JobType>(
  queue: Pick<Queue, 'getJobCounts'>,
  states: readonly S[],
  timeoutMs = QUEUE_COUNTS_TIMEOUT_MS,
): () => Promise<Record<S, number> | undefined> {
  let pending: Promise<Record<S, number> | undefined> | undefined;
  return () => {
    pending ??= queue
      .getJobCounts(...states)
      .then((counts) => counts as Record<S, number>)
      .catch(() => undefined)
      .finally(() => (pending = undefined));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(resolve, timeoutMs, undefined);
      timer.unref();
    });
    return Promise.race([pending, timeout]).finally(() => clearTimeout(timer));
  };
}
