import { LineSplitter, MAX_IMPORT_LINE_LENGTH, type ReceivedLine } from './line-splitter.js';
import { LineProblem, parseCsvLine, parseImportLine } from './record-parser.js';

function split(chunks: Array<Buffer | string>): ReceivedLine[] {
  const s = new LineSplitter();
  return [...chunks.flatMap((c) => s.push(c)), ...s.end()];
}

describe('LineSplitter', () => {
  it('numbers lines as in the body, across chunk boundaries, dropping CR and blank lines', () => {
    expect(split(['a\r\nb', 'c\n\n', '  \nd'])).toEqual([
      { line: 1, raw: 'a', problem: null },
      { line: 2, raw: 'bc', problem: null },
      { line: 5, raw: 'd', problem: null },
    ]);
  });

  it('decodes a UTF-8 character split between chunks', () => {
    const bytes = Buffer.from('é€\n');
    expect(split([bytes.subarray(0, 1), bytes.subarray(1, 3), bytes.subarray(3)])).toEqual([
      { line: 1, raw: 'é€', problem: null },
    ]);
  });

  it('reports an overlong line without keeping it, and a NUL character', () => {
    const long = 'x'.repeat(MAX_IMPORT_LINE_LENGTH + 10);
    const out = split([long.slice(0, 40_000), long.slice(40_000), '\nok\nn\u0000l\n']);
    expect(out.map((l) => [l.line, l.raw, l.problem === null])).toEqual([
      [1, null, false],
      [2, 'ok', true],
      [3, null, false],
    ]);
  });
});

describe('LineSplitter and invalid UTF-8', () => {
  it('reports a line with invalid UTF-8 bytes (never U+FFFD) and keeps the lines around it', () => {
    const out = split([
      Buffer.from('ok\nb'),
      Buffer.from([0xff, 0x0a]),
      Buffer.from([0xed, 0xa0, 0x80]), // an encoded surrogate
      Buffer.from('\nx\ufffdy\n'),
    ]);
    expect(out).toEqual([
      { line: 1, raw: 'ok', problem: null },
      { line: 2, raw: null, problem: 'line is not valid UTF-8' },
      { line: 3, raw: null, problem: 'line is not valid UTF-8' },
      // A U+FFFD its sender did write is text like any other.
      { line: 4, raw: 'x\ufffdy', problem: null },
    ]);
  });

  it('measures the limit in bytes, a CRLF line may use one more', () => {
    const at = 'é'.repeat(MAX_IMPORT_LINE_LENGTH / 2);
    expect(split([`${at}\r\n${at}x\n`]).map((l) => [l.line, l.raw === at])).toEqual([
      [1, true],
      [2, false],
    ]);
  });
});

describe('LineSplitter chunking', () => {
  it('finds the same lines however the body is cut into chunks', () => {
    const body = Buffer.concat([
      Buffer.from('a\r\n\n  \nbé€\n'),
      Buffer.from([0x62, 0xc3, 0x0a]), // a character cut short by its line's end
      Buffer.from(`${'€'.repeat((MAX_IMPORT_LINE_LENGTH - 1) / 3)}x\r\n`), // exactly at the limit, CRLF
      Buffer.from(`${'x'.repeat(MAX_IMPORT_LINE_LENGTH + 1)}\n`), // one over
      Buffer.from('n\u0000l\nlast'),
    ]);
    const whole = split([body]);
    expect(whole.map((l) => [l.line, l.raw === null ? l.problem : l.raw.length])).toEqual([
      [1, 1],
      [4, 3],
      [5, 'line is not valid UTF-8'],
      [6, (MAX_IMPORT_LINE_LENGTH - 1) / 3 + 1],
      [7, `line is longer than ${MAX_IMPORT_LINE_LENGTH} bytes`],
      [8, 'line contains a NUL character'],
      [9, 4],
    ]);
    for (const size of [1, 2, 3, 5, 7, 1000, 40_000, 70_000]) {
      const chunks: Buffer[] = [];
      for (let at = 0; at < body.length; at += size) chunks.push(body.subarray(at, at + size));
      expect(split(chunks)).toEqual(whole);
    }
  });
});

describe('import line parsing', () => {
  const twin = '2729e2aa-e513-4404-8b99-12f127e3b918';

  it('parses CSV quoting', () => {
    expect(parseCsvLine('a,"b,""c""",,d')).toEqual(['a', 'b,"c"', '', 'd']);
    expect(() => parseCsvLine('"open')).toThrow(LineProblem);
  });

  it('validates fields', () => {
    expect(parseImportLine('csv', `${twin.toUpperCase()},RFID#1,,12.5`)).toEqual({
      twin,
      name: 'RFID#1',
      visibility: null,
      validityTs: 12.5,
    });
    const subcode = (format: 'csv' | 'ndjson', raw: string) => {
      try {
        parseImportLine(format, raw);
        return 'ok';
      } catch (e) {
        return (e as LineProblem).subcode;
      }
    };
    expect(subcode('ndjson', JSON.stringify({ twin, identity: 'RFID#1', validity_ts: -1 }))).toBe(
      'invalid_timestamp',
    );
    expect(subcode('ndjson', JSON.stringify({ twin, identity: 'RFID#1', visibility: 3 }))).toBe(
      'invalid_rule',
    );
    expect(subcode('csv', `${twin},RFID#1,,1e400`)).toBe('invalid_timestamp');
    expect(subcode('csv', `${twin}`)).toBe('invalid_csv');
    expect(subcode('ndjson', 'null')).toBe('invalid_json');
  });
});
