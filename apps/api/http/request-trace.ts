import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

// A caller's own request id is kept only when it is plainly an id: it is echoed in X-Request-Id, in error bodies and
// in the log line, so nothing that could break a header, a JSON string or a log parser is accepted.
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
// W3C traceparent: version-traceid-parentid-flags; an all-zero trace id is invalid by the standard.
const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}/;
const ZERO_TRACE = '0'.repeat(32);

/**
 * operations.md: an incoming `X-Request-Id` (or the trace id of a W3C `traceparent`) is kept as the trace; otherwise
 * a fresh UUID. Shared by Fastify's genReqId (Nest routes) and the lean resolve route so both follow one rule.
 */
export function traceFromHeaders(headers: IncomingHttpHeaders): string {
  const id = headers['x-request-id'];
  if (typeof id === 'string' && REQUEST_ID.test(id)) return id;
  const parent = headers.traceparent;
  if (typeof parent === 'string') {
    const m = TRACEPARENT.exec(parent);
    if (m !== null && m[1] !== ZERO_TRACE) return m[1];
  }
  return randomUUID();
}
