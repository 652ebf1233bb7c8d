import { badRequest } from '../domain/errors.js';
import { type Description, validateDescription } from '../domain/identity/description.js';

// C0 controls and DEL: invisible in listings, and PostgreSQL text cannot hold NUL at all.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Free-text names (accounts, users, permissions; only role names have a fixed pattern, docs/access.md): 1–`max`
 * characters, not blank, no control characters. `400 invalid_name` otherwise.
 */
export function assertFreeName(name: string, what: string, max: number): void {
  if (name.length < 1 || name.length > max || !name.trim() || CONTROL.test(name)) {
    throw badRequest(
      'invalid_name',
      `${what} name must be 1–${max} characters, not blank, without control characters`,
    );
  }
}

/**
 * A user description (USER in rules): the shared description rules, plus no NUL anywhere, which PostgreSQL's jsonb
 * cannot store (it would otherwise surface as a 500).
 */
export function userDescription(value: unknown): Description {
  const error = validateDescription(value, 'User description');
  if (error) throw error;
  if (JSON.stringify(value).includes('\\u0000')) {
    throw badRequest('invalid_description', 'User description must not contain the NUL character (\\u0000)');
  }
  return value as Description;
}
