/**
 * A token bucket with overdraft: a budget of `burst` units that refills at `ratePerSecond`. A request is admitted
 * while the balance is not negative and then takes its whole cost, which may leave the balance negative; nothing more is
 * admitted until the refill has repaid that. So whether a request is admitted is known before its cost is — the API
 * can refuse a batch before reading its body — and over any window the units taken stay within the burst plus the
 * refill plus one request's cost.
 *
 * The state is two numbers kept in place, so a caller holds one per account in a Map and the check on the hot path is
 * a few arithmetic operations: no timer, no promise, no allocation. Pure: the caller passes the time (milliseconds
 * on a monotonic clock).
 */
export interface BucketState {
  /** The balance at `atMs`: at most `burst`, negative while an admitted request's cost is being repaid. */
  tokens: number;
  atMs: number;
}

export interface BucketLimits {
  ratePerSecond: number;
  burst: number;
}

/** A fresh bucket is full: an account that was quiet may spend its whole burst at once. */
export function fullBucket(limits: BucketLimits, nowMs: number): BucketState {
  return { tokens: limits.burst, atMs: nowMs };
}

/** The balance at `nowMs` (a clock that went backwards refills nothing). */
export function balance(state: BucketState, limits: BucketLimits, nowMs: number): number {
  const elapsedMs = Math.max(0, nowMs - state.atMs);
  return Math.min(limits.burst, state.tokens + (elapsedMs * limits.ratePerSecond) / 1000);
}

/** 0 if a request would be admitted at `nowMs`, else the milliseconds until one would. Changes nothing. */
export function waitMs(state: BucketState, limits: BucketLimits, nowMs: number): number {
  const tokens = balance(state, limits, nowMs);
  return tokens >= 0 ? 0 : (-tokens * 1000) / limits.ratePerSecond;
}

/**
 * Admits a request of `cost` units if the balance is not negative (returns 0), else changes nothing and returns the
 * wait, which is then always above 0.
 */
export function take(state: BucketState, limits: BucketLimits, cost: number, nowMs: number): number {
  const tokens = balance(state, limits, nowMs);
  if (tokens < 0) return (-tokens * 1000) / limits.ratePerSecond;
  state.tokens = tokens - cost;
  state.atMs = Math.max(state.atMs, nowMs);
  return 0;
}
