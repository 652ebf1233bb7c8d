/**
 * Opaque keyset cursor for the permission lists: the (created_ts, id) of the last item served, as base64url JSON.
 * Opaque to clients; decoding anything else yields null (the caller answers 400).
 */
export interface PagePosition {
  ts: number;
  id: string;
}

export function encodePageToken(position: PagePosition): string {
  return Buffer.from(JSON.stringify([position.ts, position.id]), 'utf8').toString('base64url');
}

export function decodePageToken(token: string): PagePosition | null {
  if (token.length === 0 || token.length > 200 || !/^[A-Za-z0-9_-]+$/.test(token)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) return null;
  const [ts, id] = parsed as unknown[];
  if (typeof ts !== 'number' || !Number.isFinite(ts) || typeof id !== 'string' || id.length > 64) return null;
  return { ts, id };
}
