import { TwindexError } from '../errors.js';

/**
 * docs/resolution.md "Identity names": a short scheme, `#`, a value. Case-sensitive; names are stored exactly as
 * given. JavaScript's `$` (no `m` flag) matches only at the very end, so a trailing newline is rejected (unlike
 * Python's `$`, which the upstream platform uses).
 */
export const IDENTITY_NAME_PATTERN = /^[A-Za-z_][0-9A-Za-z_]{0,7}#[0-9A-Za-z_=+-]{1,128}$/;

/** Longest possible valid name: 8 scheme characters, `#`, 128 value characters. Lets callers reject huge input cheaply. */
export const IDENTITY_NAME_MAX_LENGTH = 8 + 1 + 128;

export function isValidIdentityName(s: unknown): s is string {
  return typeof s === 'string' && s.length <= IDENTITY_NAME_MAX_LENGTH && IDENTITY_NAME_PATTERN.test(s);
}

/** `400 invalid_identity`; the description quotes the (truncated) name so the caller sees which one failed. */
export class InvalidIdentityNameError extends TwindexError {
  override name = 'InvalidIdentityNameError';
  constructor(readonly identity: string) {
    super(
      'bad_request',
      'invalid_identity',
      `Identity '${truncate(identity)}' does not match ${IDENTITY_NAME_PATTERN.source}`,
    );
  }
}

/** Throws InvalidIdentityNameError unless the name is valid. */
export function assertValidIdentityName(s: string): void {
  if (!isValidIdentityName(s)) throw new InvalidIdentityNameError(s);
}

/** Error bodies are small and logged: never echo kilobytes of attacker input. */
function truncate(s: string): string {
  return s.length > IDENTITY_NAME_MAX_LENGTH ? `${s.slice(0, IDENTITY_NAME_MAX_LENGTH)}…` : s;
}
