import fc from 'fast-check';
import { isUuid, normalizeUuid } from './uuid.js';

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
