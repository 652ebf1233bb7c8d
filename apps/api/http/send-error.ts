import type { ServerResponse } from 'node:http';
import { type LoggerService } from '@nestjs/common';
import { type FastifyReply, type FastifyRequest } from 'fastify';
import { toErrorResponse } from './error-response.js';

/** Shared by the Nest exception filter and the Fastify error handler of the lean routes. */
export function sendError(
  request: FastifyRequest,
  reply: FastifyReply,
  err: unknown,
  logger: LoggerService,
): void {
  const { status, body, retryAfter } = toErrorResponse(err, String(request.id));
  if (status >= 500 && status !== 503) {
    const e = err as Error;
    logger.error({ msg: 'unhandled error', trace: request.id, error: e?.message, stack: e?.stack });
  }
  if (retryAfter !== undefined) void reply.header('retry-after', String(retryAfter));
  void reply
    .status(status)
    .header('content-type', 'application/json; charset=utf-8')
    .send(JSON.stringify(body));
}

/** The same answer as `sendError`, written on the raw response by the lean routes (no Fastify reply there). */
export function sendRawError(
  res: ServerResponse,
  trace: string,
  err: unknown,
  logger: LoggerService,
): number {
  const { status, body, retryAfter } = toErrorResponse(err, trace);
  if (status >= 500 && status !== 503) {
    const e = err as Error;
    logger.error({ msg: 'unhandled error', trace, error: e?.message, stack: e?.stack });
  }
  const text = JSON.stringify(body);
  const headers: Record<string, string | number> = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'x-request-id': trace,
  };
  if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter);
  res.writeHead(status, headers);
  res.end(text);
  return status;
}
