import { openSync, writeSync } from 'node:fs';

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
 * Log lines collected in memory and written in batches, one write(2) per batch. A line costs an array push; the
 * batch is joined once. The write itself is synchronous: a 16 KiB write to a pipe or file is a copy into the
 * kernel (microseconds, once per ~80 request lines), and a synchronous write leaves nothing "in flight" that a
 * shutdown flush could write a second time. A pipe that is full (EAGAIN) keeps the rest queued for a retry.
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
  /** Bytes a full pipe did not take yet; written before anything newer. */
  private unwritten: Buffer | undefined;
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
    if (this.chars + (this.unwritten?.length ?? 0) + line.length > this.maxQueuedChars) {
      this.dropped++;
      return false;
    }
    this.lines.push(line);
    this.chars += line.length;
    if (this.chars >= this.batchChars && this.unwritten === undefined) this.flush();
    else this.armTimer(this.flushMs);
    return true;
  }

  /** Writes what is queued; a full pipe keeps the rest for a retry shortly after. */
  flush(): void {
    this.clearTimer();
    if (!this.writeOut(false)) this.armTimer(5);
  }

  /** Everything queued, synchronously, waiting out a full pipe for a little while: for shutdown and exit. */
  flushSync(): void {
    this.clearTimer();
    this.writeOut(true);
  }

  /** True when everything was written (or the output is gone); false when a full pipe left bytes queued. */
  private writeOut(block: boolean): boolean {
    const fresh = this.chars > 0 ? Buffer.from(this.take(), 'utf8') : undefined;
    let data = this.unwritten;
    if (data !== undefined && fresh !== undefined) data = Buffer.concat([data, fresh]);
    else data ??= fresh;
    this.unwritten = undefined;
    if (data === undefined) return true;
    let offset = 0;
    let waits = 0;
    while (offset < data.length) {
      try {
        offset += writeSync(this.fd, data, offset);
      } catch (e) {
        // Anything but a full non-blocking pipe means the output is gone: keep serving rather than queueing forever.
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') return true;
        if (!block || waits++ >= 1000) {
          this.unwritten = data.subarray(offset);
          return false;
        }
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
      }
    }
    return true;
  }

  private armTimer(ms: number): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, ms);
    this.timer.unref();
  }

  private take(): string {
    const text = this.lines.length === 1 ? this.lines[0] : this.lines.join('');
    this.lines = [];
    this.chars = 0;
    return text;
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
