import { TwindexError } from '../domain/errors.js';

/** Seconds a client refused for too many concurrent imports is asked to wait. */
export const IMPORT_RETRY_AFTER_SECONDS = 5;

export class TooManyImportsError extends TwindexError {
  readonly retryAfter = IMPORT_RETRY_AFTER_SECONDS;
  constructor(description: string) {
    super('rate_limited', 'rate_limited', description);
  }
}

/**
 * Caps the uploads one API instance receives at once, in all and per account, so a burst of (slow) imports
 * cannot take the instance: beyond either cap the upload is refused with `429` before its body is read.
 */
export class ImportAdmission {
  private total = 0;
  private readonly perAccount = new Map<string, number>();

  constructor(private readonly limits: { maxConcurrent: number; maxPerAccount: number }) {}

  /** Takes a slot or throws TooManyImportsError; the returned function gives it back (once). */
  admit(account: string): () => void {
    const mine = this.perAccount.get(account) ?? 0;
    if (mine >= this.limits.maxPerAccount)
      throw new TooManyImportsError(
        `At most ${this.limits.maxPerAccount} imports of one account upload at once; retry later`,
      );
    if (this.total >= this.limits.maxConcurrent)
      throw new TooManyImportsError('Too many imports are uploading right now; retry later');
    this.total++;
    this.perAccount.set(account, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = (this.perAccount.get(account) ?? 1) - 1;
      if (left <= 0) this.perAccount.delete(account);
      else this.perAccount.set(account, left);
    };
  }

  get active(): number {
    return this.total;
  }
}
