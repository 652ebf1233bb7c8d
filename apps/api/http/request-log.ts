import { hostname } from 'node:os';
import { pino } from 'pino';

type Destination = ReturnType<typeof pino.destination>;
let shared: Destination | undefined;

/** One buffered stdout destination per process (tests start several apps in one process), flushed at exit. */
export function logDestination(): Destination {
  if (!shared) {
    // 12 KiB batches (sonic-boom caps them below its 16 KiB write size): one write(2) per ~50 request lines.
    const stream = pino.destination({ dest: 1, sync: false, minLength: 12 * 1024 });
    const flush = () => {
      try {
        stream.flushSync();
      } catch {
        // Not open yet, or stdout already gone: nothing more can be written anyway.
      }
    };
    process.once('beforeExit', flush);
    process.once('exit', flush);
    shared = stream;
  }
  return shared;
}

export interface RequestLine {
  method: string;
  route: string;
  status: number;
  durationMs: number;
  trace: string;
  account: string | undefined;
}

const HEAD = `{"level":30,"pid":${process.pid},"hostname":${JSON.stringify(hostname())},"time":`;

/**
 * The one JSON line per request of operations.md, in pino's line format, written straight to the buffered
 * destination. Building it by hand costs a fraction of a generic logger call, which matters at gate speed; every
 * field is either a fixed word, a number, a UUID, or a route pattern from our own table (JSON-escaped anyway).
 * Nothing from request headers is written, so no secret can reach it.
 */
export function formatRequestLine(l: RequestLine, nowMs: number): string {
  const account = l.account === undefined ? '' : `,"account":"${l.account}"`;
  return (
    `${HEAD}${nowMs},"msg":"request","method":"${l.method}","route":${JSON.stringify(l.route)},` +
    `"status":${l.status},"duration_ms":${Math.round(l.durationMs * 100) / 100},"trace":"${l.trace}"${account}}\n`
  );
}
