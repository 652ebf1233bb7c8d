import { holdsIllFormedText, quoteForReport, textProblem } from './well-formed-text.js';

describe('well-formed text', () => {
  it('refuses NUL and lone surrogates, accepts surrogate pairs', () => {
    expect(textProblem('RFID#abc')).toBeNull();
    expect(textProblem('emoji 😀')).toBeNull();
    expect(textProblem('a\u0000b')).toContain('NUL character (at position 1)');
    expect(textProblem('ab\ud800')).toContain('lone UTF-16 surrogate (at position 2)');
    expect(textProblem('\udc00x')).toContain('lone UTF-16 surrogate (at position 0)');
  });

  it('finds ill-formed text in nested values and keys', () => {
    expect(holdsIllFormedText({ a: [1, 'x', { b: null }] })).toBe(false);
    expect(holdsIllFormedText({ a: [1, 'x', { b: 'bad\ud800' }] })).toBe(true);
    expect(holdsIllFormedText({ a: { 'k\u0000': 1 } })).toBe(true);
    expect(holdsIllFormedText('plain')).toBe(false);
  });

  it('quotes outside text in ASCII-safe escapes, cut short', () => {
    expect(quoteForReport('a\u0000\ud800')).toBe('"a\\u0000\\ud800"');
    expect(quoteForReport('x'.repeat(100), 4)).toBe('"xxxx…"');
  });
});
