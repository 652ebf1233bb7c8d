/**
 * A sync job naming a source of another account than the one recorded for it (or none): refused, never retried,
 * and it touches no run. Producers always write the source's account into the payload; only a forged or stale job
 * disagrees.
 */
export class ForeignJobError extends Error {
  override name = 'ForeignJobError';
  constructor(sourceId: string, account: string | undefined) {
    super(`job refused: source ${sourceId} does not belong to account ${account ?? '(none named)'}`);
  }
}
