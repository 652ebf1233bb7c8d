import { decodeCursor, encodeCursor } from '../paging/cursor-codec.js';

/**
 * Opaque keyset cursor for the permission lists: the (created_ts, id) of the last item served, as base64url JSON.
 * Opaque to clients; decoding anything else yields null (the caller answers 400).
 */
export interface PagePosition {
  ts: number;
  id: string;
}

export function encodePageToken(position: PagePosition): string {
  return encodeCursor([position.ts, position.id]);
}

export function decodePageToken(token: string): PagePosition | null {
  const parsed = decodeCursor(token, 200);
  if (parsed === null || parsed.length !== 2) return null;
  const [ts, id] = parsed;
  if (typeof ts !== 'number' || !Number.isFinite(ts) || typeof id !== 'string' || id.length > 64) return null;
  return { ts, id };
}
