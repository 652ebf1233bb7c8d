import { createHash, hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * API keys look like `twx_<43 base62 chars of 256 random bits><6 base62 chars of CRC32>`, as GitHub's tokens do:
 * the prefix lets secret scanners find leaked keys, and the checksum rejects malformed ones without a database lookup.
 */
const PREFIX = 'twx_';
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BODY_LENGTH = 43;
const CHECK_LENGTH = 6;
/** Every secret has exactly this many characters; anything else is refused before hashing. */
export const SECRET_LENGTH = PREFIX.length + BODY_LENGTH + CHECK_LENGTH;
const TOKEN_PATTERN = new RegExp(`^${PREFIX}[0-9A-Za-z]{${BODY_LENGTH + CHECK_LENGTH}}$`);
/** How much of a secret may be shown to name it. 8 random chars: 47 bits, plenty to tell a user's keys apart. */
const FINGERPRINT_LENGTH = PREFIX.length + 8;

function base62(bytes: Buffer, length: number): string {
  let n = BigInt(`0x${bytes.toString('hex') || '0'}`);
  let out = '';
  for (let i = 0; i < length; i++) {
    out = ALPHABET[Number(n % 62n)] + out;
    n /= 62n;
  }
  return out;
}

function checksum(body: string): string {
  const c = Buffer.alloc(4);
  c.writeUInt32BE(crc32(body) >>> 0);
  return base62(c, CHECK_LENGTH);
}

export function generateSecret(): string {
  const body = base62(randomBytes(32), BODY_LENGTH);
  return `${PREFIX}${body}${checksum(body)}`;
}

export function isWellFormedSecret(token: string): boolean {
  if (!TOKEN_PATTERN.test(token)) return false;
  const body = token.slice(PREFIX.length, PREFIX.length + BODY_LENGTH);
  return token.slice(PREFIX.length + BODY_LENGTH) === checksum(body);
}

export function hashSecret(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/**
 * The same SHA-256 as `hashSecret`, as hex, for the per-request cache key: the one-shot `crypto.hash` skips the Hash
 * object, its stream state and a Buffer, about a tenth of `createHash(...).digest().toString('hex')` on a short key.
 */
export function secretHashHex(token: string): string {
  return hash('sha256', token, 'hex');
}

export function fingerprintOf(token: string): string {
  return token.slice(0, FINGERPRINT_LENGTH);
}

export function sameHash(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Extracts the secret from `Authorization: <secret>` or `Authorization: Bearer <secret>`. */
export function secretFromHeader(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const h = header.trim();
  return h.length > 7 && h.slice(0, 7).toLowerCase() === 'bearer ' ? h.slice(7).trim() : h;
}
