/**
 * The one codec of opaque page cursors: a keyset position (a short array of strings and numbers) as base64url
 * JSON. Clients must not build cursors; whatever does not decode to an array is `null`, and the caller answers
 * `400` — never a 500.
 */
export function encodeCursor(parts: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(parts), 'utf8').toString('base64url');
}

/** The parts of a cursor this API returned, or null; `maxLength` bounds what is decoded at all. */
export function decodeCursor(token: string, maxLength: number): unknown[] | null {
  if (token.length === 0 || token.length > maxLength || !/^[A-Za-z0-9_-]+$/.test(token)) return null;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    return Array.isArray(parsed) ? (parsed as unknown[]) : null;
  } catch {
    return null;
  }
}
