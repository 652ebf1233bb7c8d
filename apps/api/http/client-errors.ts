import type { Duplex } from 'node:stream';
import { answerOnSocket, type EdgeAccounting, UNROUTED } from './edge-answer.js';

interface ClientError extends Error {
  code?: string;
}

/** node's parse failures, by its error code, as docs/http.md "Answers" names them. */
function answerFor(code: string | undefined): { status: number; subcode: string; description: string } {
  if (code === 'HPE_HEADER_OVERFLOW')
    return {
      status: 431,
      subcode: 'headers_too_large',
      description: 'The request line and headers exceed 16 KiB',
    };
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT')
    return {
      status: 408,
      subcode: 'request_timeout',
      description: 'The request headers did not arrive in time',
    };
  return { status: 400, subcode: 'bad_request', description: 'The request is not well-formed HTTP/1.1' };
}

/**
 * Fastify's `clientErrorHandler`: what node rejects before there is a request (an unparsable request line or
 * header, headers over node's 16 KiB, headers that never complete) gets the error shape with a trace that a
 * request line carries, like every other answer.
 */
export function clientErrorHandler(accounting: () => EdgeAccounting | undefined) {
  return (err: ClientError, socket: Duplex): void => {
    // A reset or an already closed socket: nobody is left to answer.
    if (err.code === 'ECONNRESET' || socket.destroyed || !socket.writable) {
      socket.destroy();
      return;
    }
    const began = performance.now();
    const { status, subcode, description } = answerFor(err.code);
    const trace = answerOnSocket(socket, status, subcode, description);
    accounting()?.record('-', UNROUTED, status, performance.now() - began, trace, undefined);
  };
}
