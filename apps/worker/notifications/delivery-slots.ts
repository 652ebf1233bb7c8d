/**
 * Who may start a callback POST now. The delivery loop asks before every delivery and gives the slot back after;
 * this is the seam where fair scheduling across accounts (the job queues' fair ledger) can be plugged in later
 * without touching the loop.
 */
export interface DeliverySlots {
  /** True and counts one in-flight delivery for `account` when allowed now; false leaves nothing counted. */
  tryAcquire(account: string): boolean;
  release(account: string): void;
  /** Subscribing accounts ordered for this pass: the loop offers slots in this order. */
  order<T extends { subscriber: string }>(candidates: readonly T[]): T[];
}

/**
 * A total bound and a per-account bound on deliveries in flight, candidates ordered so that the accounts with the
 * fewest deliveries in flight come first. Hanging callbacks of one account hold at most `perAccount` slots for at
 * most their timeout; everyone else keeps `total - perAccount`.
 */
export class BoundedDeliverySlots implements DeliverySlots {
  private inFlight = 0;
  private readonly byAccount = new Map<string, number>();

  constructor(
    private readonly total: number,
    private readonly perAccount: number,
  ) {}

  tryAcquire(account: string): boolean {
    const mine = this.byAccount.get(account) ?? 0;
    if (this.inFlight >= this.total || mine >= this.perAccount) return false;
    this.inFlight += 1;
    this.byAccount.set(account, mine + 1);
    return true;
  }

  release(account: string): void {
    const mine = this.byAccount.get(account) ?? 0;
    if (mine <= 0) return;
    this.inFlight -= 1;
    if (mine === 1) this.byAccount.delete(account);
    else this.byAccount.set(account, mine - 1);
  }

  order<T extends { subscriber: string }>(candidates: readonly T[]): T[] {
    return [...candidates].sort(
      (a, b) => (this.byAccount.get(a.subscriber) ?? 0) - (this.byAccount.get(b.subscriber) ?? 0),
    );
  }
}
