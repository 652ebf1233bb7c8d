import { TwindexError } from '../domain/errors.js';
import { ImportAdmission, TooManyImportsError } from '../admission/import-admission.js';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { copyRow, csvColumns, csvParser, CsvToCopy, StageTally } from './import-staging.js';

const twin = '2729e2aa-e513-4404-8b99-12f127e3b918';

describe('import staging', () => {
  it('encodes COPY text, escaping backslash, tab, newline and carriage return', () => {
    expect(copyRow(7, { twin, name: 'RFID#1', visibility: null, validityTs: null })).toBe(
      `7\t${twin}\tRFID#1\t\\N\t\\N\n`,
    );
    expect(copyRow(8, { twin, name: 'RFID#1', visibility: 'a\\b\tc\nd\re', validityTs: 1.5 })).toBe(
      `8\t${twin}\tRFID#1\ta\\\\b\\tc\\nd\\re\t1.5\n`,
    );
  });

  it('maps CSV columns in any order, optional ones optional; refuses unknown, duplicate or missing ones', () => {
    expect(csvColumns(['identity', ' TWIN '])).toEqual({
      twin: 1,
      identity: 0,
      visibility: -1,
      validity_ts: -1,
    });
    expect(csvColumns(['validity_ts', 'visibility', 'identity', 'twin'])).toEqual({
      twin: 3,
      identity: 2,
      visibility: 1,
      validity_ts: 0,
    });
    const subcode = (h: string[]) => {
      try {
        csvColumns(h);
        return 'ok';
      } catch (e) {
        return (e as TwindexError).subcode;
      }
    };
    expect(subcode(['twin', 'identity', 'colour'])).toBe('invalid_csv_header');
    expect(subcode(['twin', 'twin', 'identity'])).toBe('invalid_csv_header');
    expect(subcode(['twin', 'visibility'])).toBe('invalid_csv_header');
  });

  it('keeps the first 1,000 bad lines, counts all, and escapes a NUL quoted in a description', () => {
    const tally = new StageTally();
    for (let line = 1; line <= 1_500; line++) tally.bad(line, 'invalid_json', `bad \u0000 ${line}`);
    expect(tally.skipped).toBe(1_500);
    expect(tally.errors).toHaveLength(1_000);
    expect(tally.errors[0].description).toBe('bad \\u0000 1');
  });
});

describe('ImportAdmission', () => {
  it('caps uploads per account and per instance, and gives slots back once', () => {
    const admission = new ImportAdmission({ maxConcurrent: 3, maxPerAccount: 2 });
    const a1 = admission.admit('a');
    admission.admit('a');
    expect(() => admission.admit('a')).toThrow(TooManyImportsError);
    const b1 = admission.admit('b');
    expect(() => admission.admit('c')).toThrow(TooManyImportsError);
    a1();
    a1();
    expect(admission.active).toBe(2);
    admission.admit('c');
    b1();
    expect(admission.active).toBe(2);
  });
});

describe('CSV line numbers', () => {
  const stage = async (body: string) => {
    const tally = new StageTally();
    let copy = '';
    await pipeline(
      Readable.from([body]),
      csvParser(tally),
      new CsvToCopy(tally),
      new Writable({
        write(chunk: Buffer, _enc, done) {
          copy += chunk.toString();
          done();
        },
      }),
    );
    return { tally, copy };
  };

  it.each([
    ['with a final newline', '\n'],
    ['without a final newline', ''],
  ])('reports an unclosed quote on the line where the field opens (%s)', async (_name, end) => {
    const { tally, copy } = await stage(
      `twin,identity\n${twin},RFID#1\n${twin},"RFID#2\n${twin},RFID#3${end}`,
    );
    expect(copy).toBe(`2\t${twin}\tRFID#1\t\\N\t\\N\n`);
    expect(tally.errors).toEqual([
      { line: 3, subcode: 'invalid_csv', description: expect.stringContaining('line 3') as string },
    ]);
    expect(tally.errors[0].description).not.toContain('line 4');
  });

  it('counts blank lines before an unclosed quote', async () => {
    const { tally } = await stage(`twin,identity\n${twin},RFID#1\n\n\n${twin},"RFID#2\nx\ny\n`);
    expect(tally.errors.map((e) => e.line)).toEqual([5]);
  });

  it('counts the lines a closed quoted field spans before an unclosed one', async () => {
    const { tally } = await stage(`twin,identity\n${twin},"RFID\n#1"\n${twin},"RFID#2\n`);
    expect(tally.errors.map((e) => [e.line, e.subcode])).toEqual([
      [3, 'invalid_identity'],
      [4, 'invalid_csv'],
    ]);
  });
});
