import fc from 'fast-check';
import { TwindexError } from '../errors.js';
import {
  assertValidIdentityName,
  IDENTITY_NAME_MAX_LENGTH,
  IDENTITY_NAME_PATTERN,
  InvalidIdentityNameError,
  isValidIdentityName,
} from './identity-name.js';

describe('isValidIdentityName', () => {
  it.each([
    'RFID#be144bdc-0f6d-4a00-4091-1a6d793cbbbb',
    'GTIN#05901234123457',
    '_#x',
    'A#0',
    'abcdefgh#value',
    'Scheme_1#a_b=c+d-e',
    `X#${'a'.repeat(128)}`,
  ])('accepts %s', (name) => {
    expect(isValidIdentityName(name)).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['no hash', 'GTIN05901234123457'],
    ['empty scheme', '#abc'],
    ['empty value', 'RFID#'],
    ['scheme starts with digit', '1D#abc'],
    ['scheme of 9 characters', 'abcdefghi#value'],
    ['value of 129 characters', `X#${'a'.repeat(129)}`],
    ['two hashes', 'A#b#c'],
    ['space', 'A#b c'],
    ['slash', 'A#b/c'],
    ['percent-encoded hash (decode before validating)', 'RFID%23abc'],
    ['trailing newline', 'A#b\n'],
    ['leading space', ' A#b'],
    ['non-ASCII letter', 'A#zażółć'],
    ['dot', 'A#b.c'],
  ])('rejects %s', (_label, name) => {
    expect(isValidIdentityName(name)).toBe(false);
  });

  it('rejects non-strings', () => {
    for (const value of [undefined, null, 1, {}, ['A#b']]) expect(isValidIdentityName(value)).toBe(false);
  });

  it('is case-sensitive only in the sense that both cases are accepted and kept', () => {
    expect(isValidIdentityName('rfid#ABC')).toBe(true);
    expect(isValidIdentityName('RFID#abc')).toBe(true);
  });

  it('agrees with the pattern for arbitrary strings, and never accepts more than the maximum length', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        expect(isValidIdentityName(s)).toBe(IDENTITY_NAME_PATTERN.test(s));
        if (isValidIdentityName(s)) expect(s.length).toBeLessThanOrEqual(IDENTITY_NAME_MAX_LENGTH);
      }),
    );
  });

  it('accepts every name built from the grammar', () => {
    const schemeHead = fc.constantFrom(...'ABCXYZabcxyz_'.split(''));
    const schemeTail = fc.string({ unit: fc.constantFrom(...'Az09_'.split('')), maxLength: 7 });
    const value = fc.string({ unit: fc.constantFrom(...'Az09_=+-'.split('')), minLength: 1, maxLength: 128 });
    fc.assert(
      fc.property(schemeHead, schemeTail, value, (h, t, v) => {
        expect(isValidIdentityName(`${h}${t}#${v}`)).toBe(true);
      }),
    );
  });
});

describe('InvalidIdentityNameError', () => {
  it('is a 400 invalid_identity naming the identity and the pattern', () => {
    const error = new InvalidIdentityNameError('RFID#');
    expect(error).toBeInstanceOf(TwindexError);
    expect(error.kind).toBe('bad_request');
    expect(error.subcode).toBe('invalid_identity');
    expect(error.identity).toBe('RFID#');
    expect(error.message).toContain("'RFID#'");
    expect(error.message).toContain('^[A-Za-z_]');
  });

  it('truncates huge names in the message', () => {
    const error = new InvalidIdentityNameError('x'.repeat(10_000));
    expect(error.message.length).toBeLessThan(400);
  });

  it('is thrown by assertValidIdentityName for invalid names only', () => {
    expect(() => assertValidIdentityName('GTIN#1')).not.toThrow();
    expect(() => assertValidIdentityName('GTIN#')).toThrow(InvalidIdentityNameError);
  });
});
