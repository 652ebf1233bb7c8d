import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * Characters and length an incoming X-Request-Id may have to be kept as the trace. The trace is written into log
 * lines and error bodies, so anything that could break a JSON line or forge another one (quotes, backslashes,
 * control characters, newlines) is refused, as is anything long.
 */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** W3C trace context: version-traceid-parentid-flags; an all-zero trace id is invalid. */
const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * New traces are UUID-shaped: 72 random bits drawn once per process (a forked API process draws its own) and a
 * 48-bit counter. Only uniqueness matters for a request id, and a counter costs a tenth of `randomUUID()` on the
 * path every cached resolve takes.
 */
let tracePrefix = randomUUID().slice(0, 24);
let traceCount = 0;
const COUNTER_LIMIT = 2 ** 48;

function newTrace(): string {
  if (traceCount === COUNTER_LIMIT) {
    tracePrefix = randomUUID().slice(0, 24);
    traceCount = 0;
  }
  return tracePrefix + (traceCount++).toString(16).padStart(12, '0');
}

/** The trace of a request: its X-Request-Id if acceptable, else the trace id of its traceparent, else a new one. */
export function traceOf(headers: IncomingHttpHeaders): string {
  const requestId = headers['x-request-id'];
  if (typeof requestId === 'string' && REQUEST_ID.test(requestId)) return requestId;
  const traceparent = headers.traceparent;
  if (typeof traceparent === 'string') {
    const m = TRACEPARENT.exec(traceparent.trim());
    if (m && !/^0+$/.test(m[1]) && !traceparent.startsWith('ff')) return m[1];
  }
  return newTrace();
}
