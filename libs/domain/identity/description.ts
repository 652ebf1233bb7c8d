import { TwindexError } from '../errors.js';

/** docs/http.md "Twins": top-level keys of a twin (and user) description. Nested keys are free. */
export const DESCRIPTION_KEY_PATTERN = /^[a-z_][0-9a-z_]{0,63}$/;

/** docs/http.md: the whole object, serialised, is at most 64 KiB. */
export const DESCRIPTION_MAX_BYTES = 64 * 1024;

export type Description = Record<string, unknown>;

export type DescriptionProblem = 'not_object' | 'invalid_key' | 'too_large' | 'not_json';

/** `400 invalid_description`; `problem` lets callers and tests tell the failures apart without parsing text. */
export class InvalidDescriptionError extends TwindexError {
  override name = 'InvalidDescriptionError';
  constructor(
    readonly problem: DescriptionProblem,
    description: string,
  ) {
    super('bad_request', 'invalid_description', description);
  }
}

/**
 * Returns null when `value` is an acceptable description, else the error to throw.
 * Size is measured as UTF-8 bytes of the compact JSON text — the form that is stored and that callers send.
 * Values are not walked: they arrive from JSON.parse, so they are JSON by construction; the size check
 * (which serialises) still catches what JSON cannot represent (BigInt, cycles).
 * `what` names the field in messages (e.g. "User description").
 */
export function validateDescription(value: unknown, what = 'Description'): InvalidDescriptionError | null {
  if (!isPlainObject(value)) {
    return new InvalidDescriptionError('not_object', `${what} must be a JSON object`);
  }
  for (const key of Object.keys(value)) {
    if (!DESCRIPTION_KEY_PATTERN.test(key)) {
      return new InvalidDescriptionError(
        'invalid_key',
        `${what} key '${key.slice(0, 80)}' does not match ${DESCRIPTION_KEY_PATTERN.source}`,
      );
    }
  }
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    return new InvalidDescriptionError('not_json', `${what} is not representable as JSON`);
  }
  // Cheap bound first: UTF-8 needs at most 3 bytes per UTF-16 code unit, so short strings never need counting.
  if (text.length * 3 > DESCRIPTION_MAX_BYTES && Buffer.byteLength(text, 'utf8') > DESCRIPTION_MAX_BYTES) {
    return new InvalidDescriptionError('too_large', `${what} is larger than ${DESCRIPTION_MAX_BYTES} bytes`);
  }
  return null;
}

export function isValidDescription(value: unknown): value is Description {
  return validateDescription(value) === null;
}

/** Throws the InvalidDescriptionError of validateDescription. */
export function assertValidDescription(value: unknown, what?: string): asserts value is Description {
  const error = validateDescription(value, what);
  if (error) throw error;
}

/** Arrays, null and class instances are not descriptions; objects from JSON.parse have Object.prototype. */
function isPlainObject(value: unknown): value is Description {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
