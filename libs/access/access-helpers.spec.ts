import fc from 'fast-check';
import { isOperatorKey } from './operator-key.js';
import { decodePageToken, encodePageToken } from './page-token.js';
import {
  ASSIGNMENT_ID_PATTERN,
  generateAssignmentId,
  generatePermissionId,
  isAssignmentId,
  isPermissionId,
  PERMISSION_ID_PATTERN,
} from './permission-id.js';
import { checkPin, generatePin, hashPin, PIN_MAX_FAILED_ATTEMPTS, PIN_PATTERN } from './secret-pin.js';

describe('permission and assignment ids', () => {
  it('are random lowercase base36 in the DFNS layout', () => {
    const ids = Array.from({ length: 200 }, generatePermissionId);
    for (const id of ids) expect(id).toMatch(PERMISSION_ID_PATTERN);
    expect(new Set(ids).size).toBe(ids.length);
    expect(generateAssignmentId()).toMatch(ASSIGNMENT_ID_PATTERN);
  });

  it('are told apart by prefix', () => {
    expect(isPermissionId(generateAssignmentId())).toBe(false);
    expect(isAssignmentId(generatePermissionId())).toBe(false);
    expect(isPermissionId('pm-37vj4-jkr4l-lc9945spfftkne57')).toBe(true);
    expect(isPermissionId('PM-37VJ4-JKR4L-LC9945SPFFTKNE57')).toBe(false);
  });
});

describe('page tokens', () => {
  it('round-trip any position exactly', () => {
    fc.assert(
      fc.property(
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.string({ maxLength: 40 }),
        (ts, id) => {
          expect(decodePageToken(encodePageToken({ ts, id }))).toEqual({
            ts: Object.is(ts, -0) ? 0 : ts,
            id,
          });
        },
      ),
    );
  });

  it.each([
    '',
    'not base64!',
    'e30',
    Buffer.from('[1]').toString('base64url'),
    Buffer.from('[1,2]').toString('base64url'),
  ])('refuse %j', (token) => {
    expect(decodePageToken(token)).toBeNull();
  });

  it('never throws on arbitrary input', () => {
    fc.assert(fc.property(fc.string(), (s) => void decodePageToken(s)));
  });
});

describe('PINs', () => {
  const account = '3b1d6c4e-8f2a-4c1b-9d3e-5a6b7c8d9e0f';
  const row = (over: Partial<{ validity_ts: number; failed_attempts: number }> = {}) => ({
    validity_ts: 1000,
    failed_attempts: 0,
    ...over,
  });

  it('are six characters of [A-Z0-9]', () => {
    const pins = Array.from({ length: 200 }, generatePin);
    for (const pin of pins) expect(pin).toMatch(PIN_PATTERN);
    expect(new Set(pins).size).toBeGreaterThan(190);
  });

  it('may be redeemed before expiry only', () => {
    expect(checkPin(row(), 999)).toBe('ok');
    expect(checkPin(row(), 1000)).toBe('expired');
  });

  it('is burnt after the maximum of failed tries', () => {
    expect(checkPin(row({ failed_attempts: PIN_MAX_FAILED_ATTEMPTS - 1 }), 0)).toBe('ok');
    expect(checkPin(row({ failed_attempts: PIN_MAX_FAILED_ATTEMPTS }), 0)).toBe('burnt');
  });

  it('salts the hash with the account, so equal PINs of two accounts differ', () => {
    const other = '00000000-0000-0000-0000-000000000000';
    expect(hashPin(account, 'AB12CD').equals(hashPin(other, 'AB12CD'))).toBe(false);
    expect(hashPin(account, 'AB12CD').equals(hashPin(account.toUpperCase(), 'AB12CD'))).toBe(true);
  });
});

describe('operator key', () => {
  const key = 'k'.repeat(40);
  it('matches the configured key, bare or Bearer', () => {
    expect(isOperatorKey(key, key)).toBe(true);
    expect(isOperatorKey(`Bearer ${key}`, key)).toBe(true);
  });
  it.each([undefined, '', 'Bearer ', key.slice(1), `${key}x`])('refuses %j', (header) => {
    expect(isOperatorKey(header, key)).toBe(false);
  });
  it('never matches when no key is configured', () => {
    expect(isOperatorKey(key, undefined)).toBe(false);
  });
});
