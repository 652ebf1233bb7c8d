/**
 * Now, in seconds since the epoch with a fractional part: the unit of every `*_ts` column and of the Trusted
 * Twin API's timestamps. Code outside libs/domain reads the clock here; domain code is handed `now`.
 */
export function nowSeconds(): number {
  return Date.now() / 1000;
}
