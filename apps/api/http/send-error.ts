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
