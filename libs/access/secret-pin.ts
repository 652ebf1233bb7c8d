import { createHash, timingSafeEqual } from 'node:crypto';

/** access.md: a PIN expires after 10 minutes and is burnt by the 5th wrong try. */
export const PIN_VALIDITY_SECONDS = 600;
export const PIN_MAX_FAILED_ATTEMPTS = 5;

/**
 * SHA-256 of the PIN salted with its user's UUID, so one precomputed table of the million six-digit PINs
 * does not open every row at once. Only this hash is stored.
 */
export function hashPin(userUuid: string, pin: string): Buffer {
  return createHash('sha256').update(`${userUuid.toLowerCase()}:${pin}`, 'utf8').digest();
}

/** Constant-time comparison of a presented PIN against the stored hash. */
export function pinMatches(userUuid: string, pin: string, storedHash: Buffer): boolean {
  const presented = hashPin(userUuid, pin);
  return presented.length === storedHash.length && timingSafeEqual(presented, storedHash);
}

export type PinCheck = 'ok' | 'wrong' | 'expired' | 'burnt';

/** The PIN state machine in one pure function: expiry and burning are checked before the PIN itself. */
export function checkPin(
  row: { pin_hash: Buffer; validity_ts: number; failed_attempts: number },
  userUuid: string,
  pin: string,
  nowTs: number,
): PinCheck {
  if (row.failed_attempts >= PIN_MAX_FAILED_ATTEMPTS) return 'burnt';
  if (row.validity_ts <= nowTs) return 'expired';
  return pinMatches(userUuid, pin, row.pin_hash) ? 'ok' : 'wrong';
}
