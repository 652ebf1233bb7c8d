import fc from 'fast-check';
import {
  fingerprintOf,
  generateSecret,
  hashSecret,
  isWellFormedSecret,
  secretFromHeader,
  secretHashHex,
} from './secret-token.js';

describe('secret tokens', () => {
  it('generates distinct, prefixed, well-formed secrets', () => {
    const a = generateSecret();
    const b = generateSecret();
    expect(a).not.toBe(b);
    expect(a).toMatch(/^twx_[0-9A-Za-z]{49}$/);
    expect(isWellFormedSecret(a)).toBe(true);
    expect(fingerprintOf(a)).toBe(a.slice(0, 12));
  });

  it('refuses a secret with any single character changed (checksum)', () => {
    const s = generateSecret();
    fc.assert(
      fc.property(fc.integer({ min: 4, max: s.length - 1 }), fc.constantFrom(...'0aZ9bY'), (i, ch) => {
        fc.pre(s[i] !== ch);
        return !isWellFormedSecret(s.slice(0, i) + ch + s.slice(i + 1));
      }),
    );
  });

  it('accepts the bare and the Bearer header forms', () => {
    expect(secretFromHeader('twx_abc')).toBe('twx_abc');
    expect(secretFromHeader('Bearer twx_abc')).toBe('twx_abc');
    expect(secretFromHeader('bearer   twx_abc ')).toBe('twx_abc');
    expect(secretFromHeader(undefined)).toBeUndefined();
  });

  it('keys the principal cache by the same SHA-256 the database stores (hex of hashSecret)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 80 }), (secret) => {
        return secretHashHex(secret) === hashSecret(secret).toString('hex');
      }),
    );
    // Known vector (sha256sum of the same bytes).
    expect(secretHashHex('twx_abc')).toBe('e99e84cea687b244f504237e8e55f03922624d3c2e6c39b342aaabd13e2681e5');
  });
});
