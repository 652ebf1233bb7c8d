import { Transform, type TransformCallback } from 'node:stream';
import { parse, type CsvError, type Info } from 'csv-parse';
import { badRequest, TwindexError } from '../domain/errors.js';
import {
  CSV_HEADER,
  type ImportRecord,
  type LineError,
  LineProblem,
  parseCsvFields,
  parseImportLine,
} from './record-parser.js';
import { decodeUtf8, LineSplitter, MAX_IMPORT_LINE_LENGTH } from './line-splitter.js';

/** The report keeps the first 1,000 bad lines (docs/imports.md "The report"); the rest are only counted. */
export const MAX_IMPORT_ERRORS = 1_000;

/** What staging found in a body: lines received, rows staged, lines skipped (and the first 1,000 of those). */
export class StageTally {
  received = 0;
  staged = 0;
  skipped = 0;
  readonly errors: LineError[] = [];

  bad(line: number, subcode: string, description: string): void {
    this.skipped++;
    // A description may quote the bad input; PostgreSQL's jsonb cannot hold a NUL, so it is shown escaped.
    if (this.errors.length < MAX_IMPORT_ERRORS)
      this.errors.push({ line, subcode, description: description.replaceAll('\u0000', '\\u0000') });
  }
}

// COPY text format: backslash, newline, carriage return and tab are the characters that need escaping (a NUL
// cannot occur: every field has been validated, and validation refuses it).
const COPY_SPECIAL = /[\\\n\r\t]/;
const COPY_SPECIAL_ALL = /[\\\n\r\t]/g;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function copyText(s: string): string {
  return COPY_SPECIAL.test(s) ? s.replace(COPY_SPECIAL_ALL, (c) => COPY_ESCAPES[c]) : s;
}

/** One `import_rows (line, twin, name, visibility, validity_ts)` row in COPY text format. */
export function copyRow(line: number, r: ImportRecord): string {
  const visibility = r.visibility === null ? '\\N' : copyText(r.visibility);
  const validity = r.validityTs === null ? '\\N' : String(r.validityTs);
  return `${line}\t${r.twin}\t${copyText(r.name)}\t${visibility}\t${validity}\n`;
}

/** The columns the COPY text of `copyRow` fills, in order. */
export const IMPORT_ROW_COLUMNS = '(line, twin, name, visibility, validity_ts)';

/**
 * NDJSON body → COPY rows. Every line is parsed and validated on its own, so one bad line (bad JSON, a bad
 * escape, a `\u0000`, an invalid name or rule) is skipped with its number and subcode and cannot touch the rest.
 */
export class NdjsonToCopy extends Transform {
  private readonly splitter = new LineSplitter();

  constructor(private readonly tally: StageTally) {
    super({ decodeStrings: true, readableObjectMode: false });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.emitRows(this.splitter.push(chunk), done);
  }

  override _flush(done: TransformCallback): void {
    this.emitRows(this.splitter.end(), done);
  }

  private emitRows(lines: ReturnType<LineSplitter['push']>, done: TransformCallback): void {
    let out = '';
    for (const l of lines) {
      this.tally.received++;
      if (l.raw === null) {
        this.tally.bad(l.line, 'invalid_line', l.problem ?? 'unreadable line');
        continue;
      }
      try {
        out += copyRow(l.line, parseImportLine('ndjson', l.raw));
        this.tally.staged++;
      } catch (e) {
        if (!(e instanceof LineProblem)) return done(e as Error);
        this.tally.bad(l.line, e.subcode, e.message);
      }
    }
    done(null, out.length > 0 ? out : undefined);
  }
}

type CsvColumn = (typeof CSV_HEADER)[number];
const REQUIRED_COLUMNS: readonly CsvColumn[] = ['twin', 'identity'];

const headerError = (description: string) => badRequest('invalid_csv_header', description);

/**
 * Where each known column sits in a CSV header: columns in any order, `visibility` and `validity_ts` optional.
 * Unknown, duplicate or missing required columns are a `400` before the import is accepted.
 */
export function csvColumns(header: readonly string[]): Record<CsvColumn, number> {
  const at: Partial<Record<CsvColumn, number>> = {};
  header.forEach((raw, i) => {
    const name = raw.trim().toLowerCase();
    if (!(CSV_HEADER as readonly string[]).includes(name))
      throw headerError(
        `Unknown CSV column '${raw.slice(0, 40)}' (line 1); the columns are ${CSV_HEADER.join(', ')}`,
      );
    if (at[name as CsvColumn] !== undefined) throw headerError(`CSV column '${name}' appears twice`);
    at[name as CsvColumn] = i;
  });
  const missing = REQUIRED_COLUMNS.filter((c) => at[c] === undefined);
  if (missing.length > 0)
    throw headerError(`A CSV import starts with a header naming the columns; missing: ${missing.join(', ')}`);
  return { twin: -1, identity: -1, visibility: -1, validity_ts: -1, ...at };
}

/**
 * The CSV parser: RFC 4180 quoting (rules contain commas and quotes), a bad record skipped, not fatal.
 *
 * csv-parse numbers a record by the line it ends on, so a quote left open is reported where the body ends; the
 * parser therefore remembers where the last record ended (and the blank lines it skipped since) to name the line
 * where the record with the open quote starts, the line a user has to fix.
 *
 * A record is bounded like an NDJSON line (MAX_IMPORT_LINE_LENGTH bytes, csv-parse's own `max_record_size`), so a
 * quote left open on a large body cannot make the parser hold the body. Unlike an NDJSON line, a record over the
 * limit cannot be skipped — with a quote open nobody knows where the next record starts — so it refuses the
 * import (`400 invalid_csv`). Fields come out as bytes (`encoding: null`) and are decoded by CsvToCopy, which
 * skips a record that is not UTF-8 instead of storing U+FFFD.
 */
export function csvParser(tally: StageTally): Transform {
  let lastEnd = 0;
  let blankBefore = 0;
  const ended = (at: { lines: number; empty_lines: number }) => {
    lastEnd = at.lines;
    blankBefore = at.empty_lines;
  };
  const start = (at: { empty_lines?: number } | undefined) =>
    lastEnd + 1 + Math.max(0, (at?.empty_lines ?? blankBefore) - blankBefore);
  return parse({
    encoding: null,
    max_record_size: MAX_IMPORT_LINE_LENGTH,
    info: true,
    bom: true,
    relax_column_count: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    on_record: (record, info) => {
      ended(info);
      return record;
    },
    on_skip: (err: CsvError | undefined) => {
      const at = err as { lines?: number; empty_lines?: number } | undefined;
      if (err?.code === 'CSV_MAX_RECORD_SIZE') {
        // Thrown from here, csv-parse fails the stream with this error: the import is refused.
        throw badRequest(
          'invalid_csv',
          `The CSV record starting on line ${start(at)} is longer than ${MAX_IMPORT_LINE_LENGTH} bytes ` +
            '(is a quoted field left open?)',
        );
      }
      tally.received++;
      if (err?.code === 'CSV_QUOTE_NOT_CLOSED') {
        const line = start(at);
        tally.bad(line, 'invalid_csv', `a quoted field opened on line ${line} is never closed`);
      } else {
        tally.bad(Number(at?.lines ?? 0), 'invalid_csv', err?.message ?? 'unreadable CSV record');
      }
      ended({ lines: Number(at?.lines ?? lastEnd), empty_lines: Number(at?.empty_lines ?? blankBefore) });
      return undefined;
    },
  });
}

/** CSV records (from `csvParser`) → COPY rows; the first record is the header and is checked at once. */
export class CsvToCopy extends Transform {
  private columns: Record<CsvColumn, number> | undefined;

  constructor(private readonly tally: StageTally) {
    super({ writableObjectMode: true, readableObjectMode: false });
  }

  override _transform(
    chunk: { record: Buffer[]; info: Info },
    _enc: BufferEncoding,
    done: TransformCallback,
  ): void {
    const { info } = chunk;
    const decoded = chunk.record.map((f) => decodeUtf8(f));
    const record = decoded.every((f) => f !== null) ? decoded : null;
    if (this.columns === undefined) {
      if (record === null) return done(headerError('The CSV header (line 1) is not valid UTF-8'));
      try {
        this.columns = csvColumns(record);
      } catch (e) {
        return done(e as Error);
      }
      return done();
    }
    this.tally.received++;
    if (record === null) {
      this.tally.bad(info.lines, 'invalid_line', 'record is not valid UTF-8');
      return done();
    }
    const c = this.columns;
    const field = (i: number) => (i < 0 ? '' : (record[i] ?? ''));
    try {
      if (record.length > CSV_HEADER.length || record.length < c.identity + 1 || record.length < c.twin + 1)
        throw new LineProblem('invalid_csv', `expected the header's columns, got ${record.length} fields`);
      const r = parseCsvFields(field(c.twin), field(c.identity), field(c.visibility), field(c.validity_ts));
      this.tally.staged++;
      done(null, copyRow(info.lines, r));
    } catch (e) {
      if (!(e instanceof LineProblem)) return done(e as Error);
      this.tally.bad(info.lines, e.subcode, e.message);
      done();
    }
  }

  override _flush(done: TransformCallback): void {
    done(this.columns === undefined ? headerError('A CSV import starts with a header line') : null);
  }
}

/**
 * Counts the body's bytes against the import limit and a minimum upload rate: a client that sends fewer than
 * `minBytes` in any `windowMs` is cut off, so a trickling upload cannot hold its slot (and the API) for ever.
 */
export class UploadMeter extends Transform {
  bytes = 0;
  private inWindow = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly limits: { maxBytes: number; minBytes: number; windowMs: number }) {
    super();
    this.timer = setInterval(() => {
      if (this.inWindow < limits.minBytes)
        this.destroy(
          badRequest(
            'upload_too_slow',
            `The import body arrived slower than ${limits.minBytes} bytes per ${limits.windowMs} ms`,
          ),
        );
      this.inWindow = 0;
    }, limits.windowMs);
    this.timer.unref();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    this.inWindow += chunk.length;
    if (this.bytes > this.limits.maxBytes)
      return done(
        new TwindexError(
          'payload_too_large',
          'payload_too_large',
          `An import body is limited to ${this.limits.maxBytes} bytes`,
        ),
      );
    done(null, chunk);
  }

  override _final(done: (error?: Error | null) => void): void {
    clearInterval(this.timer);
    done();
  }

  override _destroy(err: Error | null, done: (error?: Error | null) => void): void {
    clearInterval(this.timer);
    done(err);
  }
}
