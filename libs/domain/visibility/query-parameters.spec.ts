import fc from 'fast-check';
import { TwindexError } from '../errors.js';
import { InvalidParameterError, parseBooleanParameter, parseBooleanText, quote } from './query-parameters.js';

describe('parseBooleanParameter', () => {
  it.each<[unknown, boolean, boolean]>([
    [undefined, true, true],
    [undefined, false, false],
    ['true', false, true],
    ['TRUE', false, true],
    ['True', false, true],
    ['false', true, false],
    ['FaLsE', true, false],
    [true, false, true],
    [false, true, false],
    [['true'], false, true],
  ])('%p (default %p) → %p', (raw, defaultValue, expected) => {
    expect(parseBooleanParameter('flag', raw, defaultValue)).toBe(expected);
  });

  it.each<[unknown, string]>([
    ['', "must be true or false, not ''"],
    ['yes', "must be true or false, not 'yes'"],
    ['1', "must be true or false, not '1'"],
    [' true', "must be true or false, not ' true'"],
    ['truee', "must be true or false, not 'truee'"],
    [['true', 'false'], 'is given more than once'],
    [['true', 'true'], 'is given more than once'],
    [1, 'must be true or false, not a value of type number'],
    [null, 'must be true or false, not a value of type object'],
  ])('rejects %p', (raw, reason) => {
    let error: unknown;
    try {
      parseBooleanParameter('show_valid', raw, true);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidParameterError);
    expect(error).toBeInstanceOf(TwindexError);
    const typed = error as InvalidParameterError;
    expect(typed.parameter).toBe('show_valid');
    expect(typed.subcode).toBe('invalid_parameter');
    expect(typed.kind).toBe('bad_request');
    expect(typed.message).toBe(`Parameter 'show_valid' ${reason}`);
  });

  it('accepts true/false in every letter case and nothing else', () => {
    const casing = (word: string) =>
      fc.array(fc.boolean(), { minLength: word.length, maxLength: word.length }).map((upper) =>
        word
          .split('')
          .map((c, i) => (upper[i] ? c.toUpperCase() : c))
          .join(''),
      );
    fc.assert(
      fc.property(fc.oneof(casing('true'), casing('false')), (text) => {
        expect(parseBooleanText(text)).toBe(text.toLowerCase() === 'true');
      }),
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 8 }), (text) => {
        const lower = text.toLowerCase();
        expect(parseBooleanText(text)).toBe(lower === 'true' ? true : lower === 'false' ? false : undefined);
      }),
    );
  });
});

describe('quote', () => {
  it('truncates long values', () => {
    expect(quote('x'.repeat(1000)).length).toBeLessThan(90);
    expect(quote('ab')).toBe("'ab'");
  });
});
