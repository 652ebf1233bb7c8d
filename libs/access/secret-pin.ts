import { createHash, randomInt } from 'node:crypto';

/** docs/access.md: a PIN expires after 10 minutes and is burnt once its account has seen 5 wrong tries. */
export const PIN_VALIDITY_SECONDS = 600;
export const PIN_MAX_FAILED_ATTEMPTS = 5;
export const PIN_PATTERN = /^[A-Z0-9]{6}$/;

const PIN_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** Six characters of [A-Z0-9], as Trusted Twin's PINs are (36^6 ≈ 2.2e9). */
export function generatePin(): string {
  let pin = '';
  for (let i = 0; i < 6; i++) pin += PIN_ALPHABET[randomInt(PIN_ALPHABET.length)];
  return pin;
}

/**
 * The PIN names its user (`POST /secrets/{account}/{pin}`), so it is looked up by (account, hash). The hash is
 * salted with the account so that one precomputed table does not open every account's PINs at once. Only it is stored.
 */
export function hashPin(account: string, pin: string): Buffer {
  return createHash('sha256').update(`${account.toLowerCase()}:${pin}`, 'utf8').digest();
}

export type PinCheck = 'ok' | 'expired' | 'burnt';

/** The state of a found PIN: burning and expiry are checked before it may be redeemed. */
export function checkPin(row: { validity_ts: number; failed_attempts: number }, nowTs: number): PinCheck {
  if (row.failed_attempts >= PIN_MAX_FAILED_ATTEMPTS) return 'burnt';
  if (row.validity_ts <= nowTs) return 'expired';
  return 'ok';
}
