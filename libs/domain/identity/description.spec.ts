import fc from 'fast-check';
import {
  assertValidDescription,
  DESCRIPTION_MAX_BYTES,
  InvalidDescriptionError,
  isValidDescription,
  validateDescription,
} from './description.js';

/** A description whose compact JSON is exactly `bytes` long: {"k":"xxx…"} is 8 bytes plus the filler. */
function descriptionOfSize(bytes: number, filler = 'x'): Record<string, unknown> {
  return { k: filler.repeat(bytes - 8) };
}

describe('validateDescription', () => {
  it.each([
    ['empty', {}],
    ['simple', { kind: 'pallet', weight: 12.5, tags: ['a'], nested: { 'Any-Key': null } }],
    ['underscore key', { _private: true }],
    ['64-character key', { ['a'.repeat(64)]: 1 }],
    ['digits after first', { a0_9: 1 }],
    ['null prototype', Object.assign(Object.create(null) as object, { a: 1 })],
    ['exactly 64 KiB', descriptionOfSize(DESCRIPTION_MAX_BYTES)],
  ])('accepts %s', (_label, value) => {
    expect(validateDescription(value)).toBeNull();
    expect(isValidDescription(value)).toBe(true);
  });

  it.each([
    ['null', null, 'not_object'],
    ['array', [1], 'not_object'],
    ['string', 'x', 'not_object'],
    ['number', 1, 'not_object'],
    ['class instance', new Date(0), 'not_object'],
    ['uppercase key', { Kind: 1 }, 'invalid_key'],
    ['hyphen key', { 'serial-no': 1 }, 'invalid_key'],
    ['leading digit', { '1a': 1 }, 'invalid_key'],
    ['empty key', { '': 1 }, 'invalid_key'],
    ['65-character key', { ['a'.repeat(65)]: 1 }, 'invalid_key'],
    ['one byte over 64 KiB', descriptionOfSize(DESCRIPTION_MAX_BYTES + 1), 'too_large'],
    ['BigInt value', { a: BigInt(1) }, 'not_json'],
  ])('rejects %s', (_label, value, problem) => {
    const error = validateDescription(value);
    expect(error).toBeInstanceOf(InvalidDescriptionError);
    expect(error?.problem).toBe(problem);
    expect(error?.subcode).toBe('invalid_description');
    expect(error?.kind).toBe('bad_request');
  });

  it('counts UTF-8 bytes, not characters', () => {
    // 'ż' is 2 bytes in UTF-8: half as many characters reach the limit.
    const atLimit = { k: 'ż'.repeat((DESCRIPTION_MAX_BYTES - 8) / 2) };
    expect(validateDescription(atLimit)).toBeNull();
    const over = { k: 'ż'.repeat((DESCRIPTION_MAX_BYTES - 8) / 2 + 1) };
    expect(validateDescription(over)?.problem).toBe('too_large');
  });

  it('names the offending key and the field in the message', () => {
    expect(validateDescription({ 'Bad-Key': 1 }, 'User description')?.message).toBe(
      "User description key 'Bad-Key' does not match ^[a-z_][0-9a-z_]{0,63}$",
    );
  });

  it('assertValidDescription throws the same error', () => {
    expect(() => assertValidDescription({ ok: 1 })).not.toThrow();
    expect(() => assertValidDescription([])).toThrow(InvalidDescriptionError);
  });

  it('accepts any small JSON object with valid keys, and rejects it once any key is invalid', () => {
    const key = fc.stringMatching(/^[a-z_][0-9a-z_]{0,63}$/);
    const small = fc.dictionary(key, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 });
    fc.assert(
      fc.property(small, fc.stringMatching(/^[A-Z-][a-z]{0,3}$/), (value, badKey) => {
        expect(validateDescription(value)).toBeNull();
        expect(validateDescription({ ...value, [badKey]: 1 })?.problem).toBe('invalid_key');
      }),
    );
  });
});
