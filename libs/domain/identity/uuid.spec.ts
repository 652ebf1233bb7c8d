import fc from 'fast-check';
import { isUuid, normalizeUuid, uuidV7 } from './uuid.js';

describe('isUuid / normalizeUuid', () => {
  it.each([
    ['v4 lowercase', '3b1d6c4e-8f2a-4c1b-9d3e-5a6b7c8d9e0f', '3b1d6c4e-8f2a-4c1b-9d3e-5a6b7c8d9e0f'],
    ['uppercase', '3B1D6C4E-8F2A-4C1B-9D3E-5A6B7C8D9E0F', '3b1d6c4e-8f2a-4c1b-9d3e-5a6b7c8d9e0f'],
    ['mixed case', '3b1D6c4E-8f2A-4c1B-9d3E-5a6B7c8D9e0F', '3b1d6c4e-8f2a-4c1b-9d3e-5a6b7c8d9e0f'],
    ['nil', '00000000-0000-0000-0000-000000000000', '00000000-0000-0000-0000-000000000000'],
    ['v1', 'c232ab00-9414-11ec-b3c8-9f6bdeced846', 'c232ab00-9414-11ec-b3c8-9f6bdeced846'],
    ['v7', '01890a5d-ac96-774b-bcce-b302099a8057', '01890a5d-ac96-774b-bcce-b302099a8057'],
  ])('accepts %s', (_label, input, normal) => {
    expect(isUuid(input)).toBe(true);
    expect(normalizeUuid(input)).toBe(normal);
  });

  it.each([
    ['empty', ''],
    ['no hyphens', '3b1d6c4e8f2a4c1b9d3e5a6b7c8d9e0f'],
    ['braces', '{3b1d6c4e-8f2a-4c1b-9d3e-5a6b7c8d9e0f}'],
    ['urn', 'urn:uuid:3b1d6c4e-8f2a-4c1b-9d3e-5a6b7c8d9e0f'],
    ['non-hex', '3b1d6c4e-8f2a-4c1b-9d3e-5a6b7c8d9e0g'],
    ['too short', '3b1d6c4e-8f2a-4c1b-9d3e-5a6b7c8d9e0'],
    ['trailing newline', '3b1d6c4e-8f2a-4c1b-9d3e-5a6b7c8d9e0f\n'],
    ['misplaced hyphen', '3b1d6c4e8-f2a-4c1b-9d3e-5a6b7c8d9e0f'],
  ])('rejects %s', (_label, input) => {
    expect(isUuid(input)).toBe(false);
    expect(normalizeUuid(input)).toBeNull();
  });

  it('rejects non-strings', () => {
    expect(isUuid(undefined)).toBe(false);
    expect(normalizeUuid(42)).toBeNull();
  });

  it('accepts every generated UUID of every version, in any case, and normalises to lowercase', () => {
    fc.assert(
      fc.property(fc.uuid(), fc.boolean(), (uuid, upper) => {
        const input = upper ? uuid.toUpperCase() : uuid;
        expect(normalizeUuid(input)).toBe(uuid.toLowerCase());
      }),
    );
  });

  it('normalisation is idempotent and only ever yields lowercase UUIDs', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (s) => {
        const n = normalizeUuid(s);
        if (n !== null) {
          expect(n).toBe(n.toLowerCase());
          expect(normalizeUuid(n)).toBe(n);
        }
      }),
    );
  });
});

describe('uuidV7', () => {
  const zeros = new Uint8Array(10);
  const ones = new Uint8Array(10).fill(0xff);

  it('puts the time first, then version 7 and the RFC variant around the random bits', () => {
    // RFC 9562's example (appendix A.6): 2022-02-22T19:22:22Z = 0x017f22e279b0 ms.
    const example = Uint8Array.from([0x0c, 0xc3, 0x18, 0xc4, 0xdc, 0x0c, 0x0c, 0x07, 0x39, 0x8f]);
    expect(uuidV7(1645557742000, example)).toBe('017f22e2-79b0-7cc3-98c4-dc0c0c07398f');
    expect(uuidV7(1645557742000, ones)).toBe('017f22e2-79b0-7fff-bfff-ffffffffffff');
    expect(uuidV7(0, zeros)).toBe('00000000-0000-7000-8000-000000000000');
    expect(uuidV7(2 ** 48 - 1, zeros)).toBe('ffffffff-ffff-7000-8000-000000000000');
  });

  it('is a UUID as the API reads one', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 48 - 1 }),
        fc.uint8Array({ minLength: 10, maxLength: 10 }),
        (ms, r) => expect(normalizeUuid(uuidV7(ms, r))).toBe(uuidV7(ms, r)),
      ),
    );
  });

  it('sorts a later millisecond after an earlier one, whatever the random bits (as PostgreSQL compares uuids)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 48 - 2 }),
        fc.integer({ min: 1, max: 10 ** 6 }),
        fc.uint8Array({ minLength: 10, maxLength: 10 }),
        fc.uint8Array({ minLength: 10, maxLength: 10 }),
        (ms, later, r1, r2) => {
          const next = Math.min(ms + later, 2 ** 48 - 1);
          // Lowercase hex with fixed hyphens: string order is byte order, which is PostgreSQL's uuid order.
          expect(uuidV7(ms, r1) < uuidV7(next, r2)).toBe(true);
        },
      ),
    );
  });

  it('refuses a time it cannot encode and too few random bytes', () => {
    expect(() => uuidV7(-1, zeros)).toThrow(RangeError);
    expect(() => uuidV7(2 ** 48, zeros)).toThrow(RangeError);
    expect(() => uuidV7(1.5, zeros)).toThrow(RangeError);
    expect(() => uuidV7(0, new Uint8Array(9))).toThrow(RangeError);
  });
});
