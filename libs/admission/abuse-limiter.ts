import { Inject, Injectable } from '@nestjs/common';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { CONFIG, type TwindexConfig } from '../config/index.js';
import { RateLimitedError } from '../domain/errors.js';

/**
 * Throttles abuse of the authentication paths (docs/http.md: `429` with `Retry-After`): failed authentications and
 * PIN exchanges, counted per client address and, where the request names one, per account, in fixed windows
 * (`rate-limiter-flexible`, in memory per API instance: N instances allow N times the budget).
 *
 * Only failures are counted, and only on the failure path: a request that authenticates pays nothing, and a client
 * over its budget still gets in with a valid secret. The PIN exchange is the exception: its credential is guessable
 * (six digits), so an address or account over budget is refused before the PIN is even checked.
 */
@Injectable()
export class AbuseLimiter {
  private readonly byAddress: RateLimiterMemory;
  private readonly byAccount: RateLimiterMemory;

  constructor(@Inject(CONFIG) config: TwindexConfig) {
    const duration = config.RATE_LIMIT_WINDOW_S;
    this.byAddress = new RateLimiterMemory({
      keyPrefix: 'address',
      points: config.RATE_LIMIT_FAILURES_PER_ADDRESS,
      duration,
    });
    this.byAccount = new RateLimiterMemory({
      keyPrefix: 'account',
      points: config.RATE_LIMIT_FAILURES_PER_ACCOUNT,
      duration,
    });
  }

  /** Throws RateLimitedError while the address or the account has used up its failures. */
  async assertNotBlocked(address: string, account?: string): Promise<void> {
    const [a, b] = await Promise.all([
      this.byAddress.get(address),
      account === undefined ? null : this.byAccount.get(account),
    ]);
    const wait = Math.max(blockedFor(a, this.byAddress.points), b ? blockedFor(b, this.byAccount.points) : 0);
    if (wait > 0) throw new RateLimitedError(Math.ceil(wait / 1000));
  }

  /** Counts one failure; throws RateLimitedError once the budget is spent, else returns (the caller answers 401). */
  async recordFailure(address: string, account?: string): Promise<void> {
    const results = await Promise.allSettled([
      this.byAddress.consume(address),
      account === undefined ? Promise.resolve(null) : this.byAccount.consume(account),
    ]);
    let wait = 0;
    for (const r of results) {
      if (r.status === 'rejected') {
        if (!(r.reason instanceof RateLimiterRes)) throw r.reason;
        wait = Math.max(wait, r.reason.msBeforeNext);
      }
    }
    if (wait > 0) throw new RateLimitedError(Math.max(1, Math.ceil(wait / 1000)));
  }
}

function blockedFor(res: RateLimiterRes | null, points: number): number {
  return res !== null && res.consumedPoints >= points ? res.msBeforeNext : 0;
}
