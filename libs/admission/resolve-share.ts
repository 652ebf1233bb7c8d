import { Inject, Injectable } from '@nestjs/common';
import { CONFIG, type TwindexConfig } from '../config/index.js';
import { RateLimitedError } from '../domain/errors.js';
import {
  balance,
  type BucketLimits,
  type BucketState,
  fullBucket,
  take,
  waitMs,
} from '../domain/fairness/token-bucket.js';

/**
 * A refusal is answered once the share would admit the call, or after this long: a client that ignores Retry-After
 * and sends again at once is so held to about one call per connection per refill — the per-address connection caps
 * (docs/http.md) bound the rest — instead of one per round trip. A client that waits as told never notices.
 */
export const MAX_REFUSAL_PAUSE_MS = 1000;

/** A call past the account's share: the 429 to answer, after `pauseMs`. */
export interface Refusal {
  error: RateLimitedError;
  pauseMs: number;
}

/** Buckets kept before the full ones are dropped (a full bucket is the same as none). */
const PRUNE_ABOVE = 10_000;

/**
 * Each account's share of this instance's resolve path (issue #21): names resolved per second, as a token bucket per
 * account (`RESOLVE_NAMES_PER_SECOND_PER_ACCOUNT`, burst `RESOLVE_BURST_NAMES`). `GET /resolve/{identity}` and
 * `POST /resolve/explain` cost one name, `POST /resolve` one per name asked. Over its share an account gets `429
 * rate_limited` with `Retry-After`, and nothing of the request is resolved.
 *
 * Why a rate and not a work-conserving share: what one tenant's volume takes from another here is latency, not
 * throughput. A flood of random names keeps the API's core, PostgreSQL and the machine's other core busy, and a quiet
 * tenant's p99 grows with that load whether or not the flood is "using spare capacity" (measured: 2.4× at 10,000
 * random names/s, 3–10× at 30,000, 60× unbounded). A fixed per-account rate bounds that load with one Map lookup and a
 * few arithmetic operations on the hot path, synchronously — which the promise-based limiters (rate-limiter-flexible)
 * cannot do without giving up the cached answer's synchronous path.
 *
 * Per instance, like the other in-memory limits: N instances give an account N times the rate.
 */
@Injectable()
export class ResolveShare {
  private readonly limits: BucketLimits | undefined;
  private readonly buckets = new Map<string, BucketState>();

  constructor(
    @Inject(CONFIG)
    config: Pick<TwindexConfig, 'RESOLVE_NAMES_PER_SECOND_PER_ACCOUNT' | 'RESOLVE_BURST_NAMES'>,
  ) {
    const rate = config.RESOLVE_NAMES_PER_SECOND_PER_ACCOUNT;
    // 0 turns the share off.
    this.limits = rate > 0 ? { ratePerSecond: rate, burst: config.RESOLVE_BURST_NAMES } : undefined;
  }

  /**
   * Admits a call of `names` names while the account's share is not used up, and takes all of them (a batch may
   * overdraw the share by itself; the next call waits until that is repaid). Otherwise takes nothing and returns the
   * refusal, which the caller answers once its pause is over.
   */
  admit(account: string, names: number, nowMs: number): Refusal | undefined {
    const limits = this.limits;
    if (limits === undefined) return undefined;
    let bucket = this.buckets.get(account);
    if (bucket === undefined) {
      if (this.buckets.size >= PRUNE_ABOVE) this.prune(nowMs);
      bucket = fullBucket(limits, nowMs);
      this.buckets.set(account, bucket);
    }
    const wait = take(bucket, limits, names, nowMs);
    return wait > 0 ? this.refusal(limits, wait) : undefined;
  }

  /**
   * What `admit` would answer for any call now, taking nothing: lets a batch be refused before its body is read, so
   * that a client sending batches past its share does not cost the instance a parse per refusal.
   */
  refusalNow(account: string, nowMs: number): Refusal | undefined {
    const limits = this.limits;
    const bucket = this.buckets.get(account);
    if (limits === undefined || bucket === undefined) return undefined;
    const wait = waitMs(bucket, limits, nowMs);
    return wait > 0 ? this.refusal(limits, wait) : undefined;
  }

  private refusal(limits: BucketLimits, wait: number): Refusal {
    return {
      error: new RateLimitedError(
        Math.max(1, Math.ceil(wait / 1000)),
        `The account has used its share of this instance's resolve path (${limits.ratePerSecond} names per second); try again later`,
      ),
      pauseMs: Math.min(wait, MAX_REFUSAL_PAUSE_MS),
    };
  }

  /** Drops the buckets that have refilled: they would start full anyway. */
  private prune(nowMs: number): void {
    const limits = this.limits as BucketLimits;
    for (const [account, bucket] of this.buckets) {
      if (balance(bucket, limits, nowMs) >= limits.burst) {
        this.buckets.delete(account);
      }
    }
  }
}

/** The refusal's 429, thrown once its pause is over. */
export function refuseAfterPause(refusal: Refusal): Promise<never> {
  return new Promise((_resolve, reject) => setTimeout(() => reject(refusal.error), refusal.pauseMs));
}
