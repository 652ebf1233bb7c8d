/** Bounds on the calls one worker process makes to one upstream source. */
export interface UpstreamLimits {
  /** Calls in flight at once. */
  concurrency: number;
  /** Calls started per second (a short burst of a tenth of a second's worth is allowed). */
  ratePerSecond: number;
}

export type Sleep = (ms: number) => Promise<void>;
export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/**
 * Per-source concurrency (a semaphore) and rate (evenly spaced start times with a small burst), plus a pause that
 * every call to the source honours — set when the upstream answers 429 with Retry-After.
 */
export class SourceLimiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  /** Earliest time (ms) the next call may start. */
  private nextStart = 0;
  private pausedUntil = 0;

  constructor(
    readonly limits: UpstreamLimits,
    private readonly now: () => number = Date.now,
    private readonly sleep: Sleep = realSleep,
  ) {}

  async run<T>(call: () => Promise<T>): Promise<T> {
    await this.acquireSlot();
    try {
      await this.awaitTurn();
      return await call();
    } finally {
      this.releaseSlot();
    }
  }

  /** Every call of this source waits until `untilMs` (Retry-After). */
  pauseUntil(untilMs: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, untilMs);
  }

  private async acquireSlot(): Promise<void> {
    if (this.active < this.limits.concurrency) {
      this.active++;
      return;
    }
    // The releasing call hands its slot over directly, so `active` stays counted.
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private releaseSlot(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }

  private async awaitTurn(): Promise<void> {
    const interval = 1000 / this.limits.ratePerSecond;
    const burst = Math.max(0, Math.floor(this.limits.ratePerSecond / 10) - 1) * interval;
    const now = this.now();
    const start = Math.max(this.nextStart, now - burst, this.pausedUntil);
    this.nextStart = start + interval;
    if (start > now) await this.sleep(start - now);
    // A pause that arrived while we slept (another call got a 429) still applies.
    const paused = this.pausedUntil - this.now();
    if (paused > 0) await this.sleep(paused);
  }
}
