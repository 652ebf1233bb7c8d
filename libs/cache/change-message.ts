/** What one notification on `twindex_changes` says (format written by the migration's trigger function). */
export type ChangeKind = 'i' | 't' | 'a';

export interface ChangeMessage {
  kind: ChangeKind;
  /** When the committing transaction sent it (ms since epoch), for the invalidation-lag metric. */
  sentMs: number;
  /** The keys that changed, or 'all' when the writer asked every cache of this kind to flush. */
  keys: string[] | 'all';
}

export function parseChangeMessage(payload: string): ChangeMessage | undefined {
  const first = payload.indexOf('|');
  const second = payload.indexOf('|', first + 1);
  if (first !== 1 || second < 0) return undefined;
  const kind = payload[0];
  if (kind !== 'i' && kind !== 't' && kind !== 'a') return undefined;
  const sentMs = Number(payload.slice(first + 1, second));
  const rest = payload.slice(second + 1);
  return { kind, sentMs, keys: rest === '*' ? 'all' : rest.split(',') };
}
