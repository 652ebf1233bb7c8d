/**
 * A line (NDJSON) or record (CSV) longer than this many bytes is not kept (it cannot be a valid import line): an
 * NDJSON line is reported as bad, a CSV record refuses the import (docs/imports.md "What is checked, and when").
 */
export const MAX_IMPORT_LINE_LENGTH = 64 * 1024;

export type ImportFormat = 'ndjson' | 'csv';

export interface ReceivedLine {
  /** Numbered from 1 as the line appears in the body. */
  line: number;
  /** NULL when the text cannot be stored (too long, NUL character, not UTF-8): `problem` says why. */
  raw: string | null;
  problem: string | null;
}

const NEWLINE = 0x0a;
const EMPTY = Buffer.alloc(0);

/**
 * Decodes one line's bytes, or answers null when they are not UTF-8. `fatal`, because the default decoding turns
 * bad bytes into U+FFFD and a line would be stored as text its sender never wrote; `ignoreBOM`, so that a line
 * keeps what it holds (a body's leading BOM is then not valid JSON, as before).
 */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}

/**
 * Splits a byte stream into numbered lines without holding more than one line (bounded) at a time. `\n` ends a
 * line, a preceding `\r` is dropped. Blank lines keep their number but are not returned. Lines are split as bytes
 * and decoded strictly, so invalid UTF-8 is a problem of its own line only.
 */
export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private overlong = false;
  private next = 1;

  /** The complete lines this chunk finishes. */
  push(chunk: Buffer | string): ReceivedLine[] {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    const out: ReceivedLine[] = [];
    const first = bytes.indexOf(NEWLINE);
    if (first < 0) {
      this.keep(bytes);
      return out;
    }
    this.finish(out, bytes.subarray(0, first));
    const last = bytes.lastIndexOf(NEWLINE);
    if (last > first) this.finishAll(out, bytes.subarray(first + 1, last));
    if (last + 1 < bytes.length) this.keep(bytes.subarray(last + 1));
    return out;
  }

  /**
   * Whole lines between two newlines of one chunk. Decoded at once when they are all valid UTF-8 (a `\n` byte never
   * occurs inside a multi-byte character, so each line then is too), which is the common case and three times
   * faster; line by line otherwise, to tell which lines are not.
   */
  private finishAll(out: ReceivedLine[], lines: Buffer): void {
    const text = decodeUtf8(lines);
    if (text === null) {
      let start = 0;
      for (let nl = lines.indexOf(NEWLINE); nl >= 0; nl = lines.indexOf(NEWLINE, start)) {
        this.finish(out, lines.subarray(start, nl));
        start = nl + 1;
      }
      this.finish(out, lines.subarray(start));
      return;
    }
    for (const raw of text.split('\n')) {
      const line = this.next++;
      const body = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      // A character is 1 to 3 UTF-8 bytes per UTF-16 unit: only a long line needs counting.
      if (body.length * 3 > MAX_IMPORT_LINE_LENGTH && Buffer.byteLength(body) > MAX_IMPORT_LINE_LENGTH) {
        out.push({ line, raw: null, problem: `line is longer than ${MAX_IMPORT_LINE_LENGTH} bytes` });
        continue;
      }
      this.accept(out, line, body);
    }
  }

  /** The last line, when the body does not end with a newline. */
  end(): ReceivedLine[] {
    const out: ReceivedLine[] = [];
    if (this.pendingBytes > 0 || this.overlong) this.finish(out, EMPTY);
    return out;
  }

  private keep(part: Buffer): void {
    if (this.overlong || part.length === 0) return;
    this.pendingBytes += part.length;
    if (this.pendingBytes > MAX_IMPORT_LINE_LENGTH + 1) {
      this.overlong = true;
      this.pending = [];
      this.pendingBytes = 0;
      return;
    }
    // A copy: the chunk's memory belongs to the stream and may be reused.
    this.pending.push(Buffer.from(part));
  }

  /** Ends the line held so far with `tail` (a line wholly inside one chunk is decoded where it lies, uncopied). */
  private finish(out: ReceivedLine[], tail: Buffer): void {
    const line = this.next++;
    const pending = this.pending;
    // One byte over the limit is allowed for the `\r` of a CRLF line; the check below is exact.
    const overlong = this.overlong || this.pendingBytes + tail.length > MAX_IMPORT_LINE_LENGTH + 1;
    this.pending = [];
    this.pendingBytes = 0;
    this.overlong = false;
    const bytes = overlong ? EMPTY : pending.length === 0 ? tail : Buffer.concat([...pending, tail]);
    const end = bytes.length > 0 && bytes[bytes.length - 1] === 0x0d ? bytes.length - 1 : bytes.length;
    if (overlong || end > MAX_IMPORT_LINE_LENGTH) {
      out.push({ line, raw: null, problem: `line is longer than ${MAX_IMPORT_LINE_LENGTH} bytes` });
      return;
    }
    const text = decodeUtf8(bytes.subarray(0, end));
    if (text === null) {
      out.push({ line, raw: null, problem: 'line is not valid UTF-8' });
      return;
    }
    this.accept(out, line, text);
  }

  /** A decoded line of allowed length: blank lines are dropped, a NUL is reported, the rest is returned. */
  private accept(out: ReceivedLine[], line: number, text: string): void {
    if (text.trim() === '') return;
    if (text.includes('\u0000')) {
      out.push({ line, raw: null, problem: 'line contains a NUL character' });
      return;
    }
    out.push({ line, raw: text, problem: null });
  }
}
