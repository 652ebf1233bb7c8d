import { openSync, write, writeSync } from 'node:fs';

export interface BufferedLogOptions {
  /** File descriptor to write to (1 = stdout). */
  fd?: number;
  /** A batch is written once it holds this many characters… */
  batchChars?: number;
  /** …or this long after its first line, so lines reach the output within a second even when traffic is low. */
  flushMs?: number;
  /** Lines are dropped (and counted) rather than queued beyond this while the output is blocked. */
  maxQueuedChars?: number;
}

/**
 * Log lines collected in memory and written in batches, one write(2) per batch off the event loop (libuv's thread
 * pool), one batch in flight at a time so order is kept. A line costs an array push; the batch is joined once.
 * A timer flushes a partial batch; `flushSync` empties everything on shutdown. Used for pino's output and the
 * request log line alike, so both keep one order.
 */
export class BufferedLogDestination {
  private readonly fd: number;
  private readonly batchChars: number;
  private readonly flushMs: number;
  private readonly maxQueuedChars: number;
  private lines: string[] = [];
  private chars = 0;
  private writing: Buffer | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Lines given up while the output could not keep up (reported, never silently lost). */
  dropped = 0;

  constructor(options: BufferedLogOptions = {}) {
    this.fd = options.fd ?? 1;
    this.batchChars = options.batchChars ?? 16 * 1024;
    this.flushMs = options.flushMs ?? 200;
    this.maxQueuedChars = options.maxQueuedChars ?? 16 * 1024 * 1024;
  }

  /** pino's destination contract: one call per line, the line ends with \n. */
  write(line: string): boolean {
    if (this.chars + line.length > this.maxQueuedChars) {
      this.dropped++;
      return false;
    }
    this.lines.push(line);
    this.chars += line.length;
    if (this.chars >= this.batchChars) this.flush();
    else if (this.timer === undefined) {
      this.timer = setTimeout(() => this.onTimer(), this.flushMs);
      this.timer.unref();
    }
    return true;
  }

  /** Starts writing what is queued unless a write is already in flight (it continues when that one is done). */
  flush(): void {
    if (this.writing !== undefined || this.chars === 0) return;
    this.clearTimer();
    const data = Buffer.from(this.take(), 'utf8');
    this.writing = data;
    this.writeFrom(data, 0);
  }

  /** Everything queued and in flight, synchronously: for shutdown and exit. */
  flushSync(): void {
    this.clearTimer();
    let pending = this.writing;
    this.writing = undefined;
    const rest = this.chars > 0 ? Buffer.from(this.take(), 'utf8') : undefined;
    if (pending !== undefined && rest !== undefined) pending = Buffer.concat([pending, rest]);
    else pending ??= rest;
    if (pending === undefined) return;
    let offset = 0;
    let attempts = 0;
    while (offset < pending.length && attempts < 1000) {
      try {
        offset += writeSync(this.fd, pending, offset);
      } catch (e) {
        // A non-blocking pipe that is full: wait a little and try again; anything else cannot be written.
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') return;
        attempts++;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
      }
    }
  }

  private onTimer(): void {
    this.timer = undefined;
    this.flush();
  }

  private take(): string {
    const text = this.lines.length === 1 ? this.lines[0] : this.lines.join('');
    this.lines = [];
    this.chars = 0;
    return text;
  }

  private writeFrom(data: Buffer, offset: number): void {
    write(this.fd, data, offset, data.length - offset, null, (err, written) => {
      // flushSync took over this buffer (shutdown): nothing more to do here.
      if (this.writing !== data) return;
      if (err) {
        if (err.code === 'EAGAIN') {
          setTimeout(() => this.writeFrom(data, offset), 5).unref();
          return;
        }
        this.writing = undefined; // the output is gone; keep serving rather than queueing forever
        return;
      }
      if (offset + written < data.length) return this.writeFrom(data, offset + written);
      this.writing = undefined;
      if (this.chars >= this.batchChars) this.flush();
      else if (this.chars > 0 && this.timer === undefined) {
        this.timer = setTimeout(() => this.onTimer(), this.flushMs);
        this.timer.unref();
      }
    });
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

const shared = new Map<string, BufferedLogDestination>();

/**
 * One destination per target per process (tests start several apps in one process; a test may log to a file),
 * emptied synchronously at exit. `file` unset: stdout.
 */
export function sharedLogDestination(file?: string): BufferedLogDestination {
  const key = file ?? '<stdout>';
  let dest = shared.get(key);
  if (dest === undefined) {
    const created = new BufferedLogDestination({ fd: file === undefined ? 1 : openSync(file, 'a') });
    const flush = () => created.flushSync();
    process.once('beforeExit', flush);
    process.once('exit', flush);
    shared.set(key, created);
    dest = created;
  }
  return dest;
}
