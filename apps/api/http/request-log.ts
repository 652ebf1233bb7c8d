import { hostname } from 'node:os';
import { pino } from 'pino';

type Destination = ReturnType<typeof pino.destination>;
const shared = new Map<number | string, Destination>();

/** Buffered lines are written out at least this often, however quiet the traffic (operations.md: within a second). */
export const LOG_FLUSH_INTERVAL_MS = 250;

/**
 * One buffered destination per target (stdout by default; tests start several apps in one process and may log to a
 * file), written out every LOG_FLUSH_INTERVAL_MS, on app close (`flushLog`) and at exit — so a crash loses at most
 * that interval.
 */
export function logDestination(dest: number | string = 1): Destination {
  let stream = shared.get(dest);
  if (!stream) {
    // 12 KiB batches (sonic-boom caps them below its 16 KiB write size): one write(2) per ~50 request lines.
    const created = pino.destination({ dest, sync: false, minLength: 12 * 1024 });
    const flush = () => flushLog(created);
    // A quiet buffer would otherwise wait for the next 12 KiB of traffic; an empty one costs nothing here.
    const timer = setInterval(() => {
      const state = created as unknown as { _len?: number; _writing?: boolean };
      if (state._len && !state._writing) {
        try {
          created.flush();
        } catch {
          // Not open yet, or already closed: the next tick or the exit flush takes it.
        }
      }
    }, LOG_FLUSH_INTERVAL_MS);
    timer.unref();
    process.once('beforeExit', flush);
    process.once('exit', flush);
    shared.set(dest, created);
    stream = created;
  }
  return stream;
}

/** Writes out whatever is buffered, synchronously (shutdown, exit). */
export function flushLog(stream: Destination): void {
  try {
    stream.flushSync();
  } catch {
    // Not open yet, or stdout already gone: nothing more can be written anyway.
  }
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
