/**
 * RFC 4122 string form: 8-4-4-4-12 hex digits, case-insensitive on input. Any version and variant is accepted
 * (nil UUID included) because account ids may mirror an upstream platform that is not ours to constrain.
 * Braced, URN and hyphen-less spellings are refused: one spelling per id keeps ids comparable as strings.
 */
const UUID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export function isUuid(s: unknown): s is string {
  return typeof s === 'string' && s.length === 36 && UUID_PATTERN.test(s);
}

/** The canonical (lowercase) spelling used everywhere ids are compared or stored, or null when `s` is not a UUID. */
export function normalizeUuid(s: unknown): string | null {
  return isUuid(s) ? s.toLowerCase() : null;
}

/**
 * A version 7 UUID (RFC 9562): the 48-bit Unix time in milliseconds, then the version, then random bits. Ids made
 * later sort after ids made earlier (to the millisecond), so rows keyed by them are appended at the right edge of a
 * B-tree instead of being scattered through it. `random` supplies the 74 random bits (at least 10 bytes).
 */
export function uuidV7(unixMs: number, random: Uint8Array): string {
  if (!Number.isSafeInteger(unixMs) || unixMs < 0 || unixMs >= 2 ** 48)
    throw new RangeError('uuidV7: the time must be whole milliseconds in 0 … 2^48 - 1');
  if (random.length < 10) throw new RangeError('uuidV7: 10 random bytes are needed');
  const b = new Uint8Array(16);
  let t = unixMs;
  for (let i = 5; i >= 0; i--) {
    b[i] = t % 256;
    t = Math.floor(t / 256);
  }
  b[6] = 0x70 | (random[0] & 0x0f);
  b[7] = random[1];
  b[8] = 0x80 | (random[2] & 0x3f);
  b.set(random.subarray(3, 10), 9);
  const hex = Buffer.from(b).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
