import { createHash, timingSafeEqual } from 'node:crypto';
import { secretFromHeader } from './secret-token.js';

/**
 * Whether an `Authorization: <key>` / `Authorization: Bearer <key>` header carries the operator key.
 * Both sides are hashed first so the comparison is constant-time whatever the lengths.
 * `configured` undefined (TWINDEX_OPERATOR_KEY unset) never matches.
 */
export function isOperatorKey(header: string | undefined, configured: string | undefined): boolean {
  if (configured === undefined) return false;
  const presented = secretFromHeader(header);
  if (presented === undefined) return false;
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(presented), digest(configured));
}
