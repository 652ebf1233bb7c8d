import { StringDecoder } from 'node:string_decoder';

/** A line longer than this is not kept (it cannot be a valid import line) and is reported as bad. */
export const MAX_IMPORT_LINE_LENGTH = 64 * 1024;

export type ImportFormat = 'ndjson' | 'csv';

export interface ReceivedLine {
  /** Numbered from 1 as the line appears in the body. */
  line: number;
  /** NULL when the text cannot be stored (too long, NUL character): `problem` says why. */
  raw: string | null;
  problem: string | null;
}

/**
 * Splits a byte stream into numbered lines without holding more than one line (bounded) at a time. `\n` ends a
 * line, a preceding `\r` is dropped. Blank lines keep their number but are not returned.
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  private overlong = false;
  private next = 1;

  /** The complete lines this chunk finishes. */
  push(chunk: Buffer | string): ReceivedLine[] {
    const text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    return this.split(text, false);
  }

  /** The last line, when the body does not end with a newline. */
  end(): ReceivedLine[] {
    return this.split(this.decoder.end(), true);
  }

  private split(text: string, final: boolean): ReceivedLine[] {
    const out: ReceivedLine[] = [];
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      this.finish(text.slice(start, nl), out);
      start = nl + 1;
    }
    const rest = text.slice(start);
    if (!this.overlong) {
      this.pending += rest;
      if (this.pending.length > MAX_IMPORT_LINE_LENGTH + 1) {
        this.overlong = true;
        this.pending = '';
      }
    }
    if (final && (this.pending.length > 0 || this.overlong)) this.finish('', out);
    return out;
  }

  private finish(tail: string, out: ReceivedLine[]): void {
    const line = this.next++;
    let text = this.overlong ? null : this.pending + tail;
    this.pending = '';
    const overlong = this.overlong || (text !== null && text.length > MAX_IMPORT_LINE_LENGTH + 1);
    this.overlong = false;
    if (overlong) {
      out.push({ line, raw: null, problem: `line is longer than ${MAX_IMPORT_LINE_LENGTH} characters` });
      return;
    }
    if (text === null) return;
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (text.trim() === '') return;
    if (text.includes('\u0000')) {
      out.push({ line, raw: null, problem: 'line contains a NUL character' });
      return;
    }
    out.push({ line, raw: text, problem: null });
  }
}
