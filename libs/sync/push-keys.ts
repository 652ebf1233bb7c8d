import { hashKey, messageHash } from '../domain/notifications/message-hash.js';
import type { Queryable } from '../store/db.js';
import type { SecretBox } from './secret-box.js';

/** The sealing context of a push subscription's hash key: bound to its source. */
export const pushKeyContext = (source: string) => `sync-push:${source}`;

/**
 * The hash keys of a source's live push subscriptions (written by the worker's UpstreamPush, read by the intake).
 * Keys that no longer open (TWINDEX_SECRET_KEY rotated) are left out.
 */
export async function livePushKeys(
  q: Queryable,
  box: SecretBox,
  source: string,
  now: number,
): Promise<Uint8Array[]> {
  const rows = await q.query<{ hash_key_sealed: Buffer }>(
    `SELECT hash_key_sealed FROM sync_source_push
      WHERE source = $1 AND validity_ts > $2 AND hash_key_sealed IS NOT NULL`,
    [source, now],
  );
  const keys: Uint8Array[] = [];
  for (const r of rows) {
    try {
      const plain = box.open(r.hash_key_sealed, pushKeyContext(source));
      keys.push(hashKey(plain.slice(0, 16), plain.slice(16)));
    } catch {
      // Sealed under another key: that subscription's messages cannot be verified, and so are refused.
    }
  }
  return keys;
}

/**
 * The messages of an intake body that carry a `hash` (a single message, a batch's messages), each of which must
 * verify against one of `keys`. A body whose messages carry no hash is the caller's to accept or not.
 */
export function hashesVerify(body: unknown, keys: readonly Uint8Array[]): boolean {
  const batch = (body as { notifications?: unknown } | null)?.notifications;
  const messages = Array.isArray(batch) ? batch : Array.isArray(body) ? body : [body];
  for (const m of messages) {
    if (typeof m !== 'object' || m === null || !('hash' in m)) continue;
    const message = m as Record<string, unknown>;
    if (!keys.some((k) => messageHash(message, k) === message.hash)) return false;
  }
  return true;
}
