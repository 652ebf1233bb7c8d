import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { type ErrorBody } from './error-response.js';
import type { RequestAccounting } from './request-accounting.js';
import { traceOf } from './trace-id.js';

/** Where an answer given before routing is accounted: one latency observation and one request line. */
export type EdgeAccounting = Pick<RequestAccounting, 'record'>;

/** The route label of answers given before a request was routed (a fixed word: metric labels stay few). */
export const UNROUTED = 'unrouted';

const TRACE = Symbol('twindex.trace');

/**
 * The trace of a request, decided once: Fastify's genReqId and the edges that answer before Fastify (the body
 * deadline) must name the same trace, or the answer would carry one the log line does not.
 */
export function traceOfRequest(req: IncomingMessage): string {
  const holder = req as IncomingMessage & { [TRACE]?: string };
  return (holder[TRACE] ??= traceOf(req.headers));
}

function bodyText(status: number, subcode: string, description: string, trace: string): string {
  const body: ErrorBody = { subcode, description, trace };
  return JSON.stringify(body);
}

/**
 * Answers on a bare socket whose request node could not parse (no request or response object exists), then
 * closes it: the connection's state is unknown after a parse error.
 */
export function answerOnSocket(socket: Duplex, status: number, subcode: string, description: string): string {
  const trace = traceOf({});
  const text = bodyText(status, subcode, description, trace);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
      'content-type: application/json; charset=utf-8\r\n' +
      `content-length: ${Buffer.byteLength(text)}\r\n` +
      `x-request-id: ${trace}\r\n` +
      'connection: close\r\n\r\n' +
      text,
    () => socket.destroy(),
  );
  return trace;
}

/** Answers a request whose response has not started, then closes the connection (its body is still unread). */
export function answerAndClose(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  subcode: string,
  description: string,
): string {
  const trace = traceOfRequest(req);
  const text = bodyText(status, subcode, description, trace);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'x-request-id': trace,
    connection: 'close',
  });
  res.end(text, () => req.socket.destroy());
  return trace;
}
