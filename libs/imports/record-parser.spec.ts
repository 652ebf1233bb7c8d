import fc from 'fast-check';
import { LineProblem, parseImportLine, parseNdjsonValue } from './record-parser.js';

/** What parsing a line gives: the record, or the problem (subcode and description) that skips it. */
function outcome(parse: () => unknown): unknown {
  try {
    return { record: parse() };
  } catch (e) {
    if (!(e instanceof LineProblem)) throw e;
    return { subcode: e.subcode, description: e.message };
  }
}

const chars = (alphabet: string, maxLength: number, minLength = 0) =>
  fc.string({ unit: fc.constantFrom(...alphabet.split('')), minLength, maxLength });

/** Twin fields: real UUIDs (any case), near-UUIDs, and anything at all. */
const twinText = fc.oneof(
  fc.uuid(),
  fc.uuid().map((u) => u.toUpperCase()),
  chars('0123456789abcdefABCDEFxyzXYZ-', 40),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
);

/** Identity fields: valid names, near-names, names at and over the length limit, and anything at all. */
const identityText = fc.oneof(
  fc
    .tuple(chars('AZaz_', 1, 1), chars('Az09_', 7), chars('Az09_=+-', 128, 1))
    .map(([a, b, c]) => `${a}${b}#${c}`),
  chars('Az09_=+-#"\\ ', 140),
  fc.integer({ min: 120, max: 145 }).map((n) => `RFID#${'x'.repeat(n)}`),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
);

describe('NDJSON lines of the plain shape {"twin":"…","identity":"…"}', () => {
  it('give exactly what JSON.parse and the same checks give, whatever the two values hold', () => {
    fc.assert(
      fc.property(twinText, identityText, fc.boolean(), (twin, identity, raw) => {
        // Raw: the values pasted between quotes as they are (often not JSON at all); else properly encoded.
        const line = raw
          ? `{"twin":"${twin}","identity":"${identity}"}`
          : `{"twin":${JSON.stringify(twin)},"identity":${JSON.stringify(identity)}}`;
        expect(outcome(() => parseImportLine('ndjson', line))).toEqual(outcome(() => parseNdjsonValue(line)));
      }),
      { numRuns: 5_000 },
    );
  });

  it('near the shape (spaces, escapes, other fields, duplicate keys, other order) is parsed as any JSON line', () => {
    const twin = '2729e2aa-e513-4404-8b99-12f127e3b918';
    const lines = [
      `{"twin":"${twin}","identity":"RFID#1"}`,
      `{"twin":"${twin.toUpperCase()}","identity":"RFID#1"}`,
      `{"twin": "${twin}","identity":"RFID#1"}`,
      ` {"twin":"${twin}","identity":"RFID#1"}`,
      `{"twin":"${twin}","identity":"RFID#1"} `,
      `{"twin":"${twin}","identity":"RFID\\u00231"}`,
      `{"twin":"${twin}","identity":"RFID#1","visibility":"true"}`,
      `{"twin":"${twin}","identity":"RFID#1","identity":"RFID#2"}`,
      `{"identity":"RFID#1","twin":"${twin}"}`,
      `{"twin":"${twin}","identity":"RFID#"}`,
      `{"twin":"${twin.slice(1)}","identity":"RFID#1"}`,
      `{"twin":"${twin.replaceAll('-', '')}","identity":"RFID#1"}`,
      `{"twin":"${twin}","identity":"1RFID#1"}`,
    ];
    for (const line of lines)
      expect(outcome(() => parseImportLine('ndjson', line))).toEqual(outcome(() => parseNdjsonValue(line)));
    expect(parseImportLine('ndjson', lines[1])).toEqual({
      twin,
      name: 'RFID#1',
      visibility: null,
      validityTs: null,
    });
    expect(outcome(() => parseImportLine('ndjson', lines[7]))).toEqual({
      record: { twin, name: 'RFID#2', visibility: null, validityTs: null },
    });
  });
});
