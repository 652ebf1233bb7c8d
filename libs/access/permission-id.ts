import { randomBytes } from 'node:crypto';

/** docs/access.md: `pm-xxxxx-xxxxx-xxxxxxxxxxxxxx`, lowercase base36, as DFNS spells permission ids. */
export const PERMISSION_ID_PATTERN = /^pm-[a-z0-9]{5}-[a-z0-9]{5}-[a-z0-9]{14,16}$/;
/** Assignments follow the same layout with the `as-` prefix. */
export const ASSIGNMENT_ID_PATTERN = /^as-[a-z0-9]{5}-[a-z0-9]{5}-[a-z0-9]{14,16}$/;

const BASE36 = '0123456789abcdefghijklmnopqrstuvwxyz';

/** Uniform base36 characters: bytes ≥ 252 are dropped so that `% 36` has no bias. 24 characters ≈ 124 bits. */
function randomBase36(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 252) out += BASE36[byte % 36];
      if (out.length === length) break;
    }
  }
  return out;
}

function randomId(prefix: 'pm' | 'as'): string {
  const r = randomBase36(24);
  return `${prefix}-${r.slice(0, 5)}-${r.slice(5, 10)}-${r.slice(10)}`;
}

export const generatePermissionId = (): string => randomId('pm');
export const generateAssignmentId = (): string => randomId('as');

export const isPermissionId = (s: string): boolean => PERMISSION_ID_PATTERN.test(s);
export const isAssignmentId = (s: string): boolean => ASSIGNMENT_ID_PATTERN.test(s);
