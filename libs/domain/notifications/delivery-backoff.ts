/** How long a subscription's failing deliveries are retried before it is `suspended` (docs/notifications.md). */
export const RETRY_WINDOW_SECONDS = 24 * 3600;
const FIRST_DELAY_SECONDS = 1;
const MAX_DELAY_SECONDS = 3600;

export type AfterFailure = { kind: 'retry'; at: number } | { kind: 'suspend' };

/**
 * After the `failures`-th failure in a row (1 for the first): exponential backoff from 1 s, capped at an hour, with
 * full jitter drawn from `random` (∈ [0, 1)) over the upper half, never earlier than the receiver's `Retry-After`.
 * Once failing since more than 24 h, suspend.
 */
export function afterFailure(
  failures: number,
  failingSince: number,
  now: number,
  random: number,
  retryAfterSeconds?: number,
): AfterFailure {
  if (now - failingSince >= RETRY_WINDOW_SECONDS) return { kind: 'suspend' };
  const ceiling = Math.min(
    MAX_DELAY_SECONDS,
    FIRST_DELAY_SECONDS * 2 ** Math.min(30, Math.max(0, failures - 1)),
  );
  let delay = ceiling / 2 + (ceiling / 2) * random;
  if (retryAfterSeconds !== undefined && retryAfterSeconds > delay)
    delay = Math.min(retryAfterSeconds, MAX_DELAY_SECONDS);
  return { kind: 'retry', at: now + delay };
}
