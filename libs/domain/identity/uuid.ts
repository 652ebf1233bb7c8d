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
