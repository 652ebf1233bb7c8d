import type { LoggerService } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { TwindexError } from '../../../libs/domain/errors.js';
import { sendError } from './send-error.js';
import './fastify-augment.js';

const JSON_TYPE = 'application/json';

/**
 * The API reads JSON bodies only. A body of another media type is refused with `415 unsupported_media_type` that
 * names `application/json`, before authentication, on every route that does not declare `ownMediaTypes` (imports
 * and the dashboard's login form read their own types and answer a wrong one themselves).
 *
 * Without this, curl's `-d` (`application/x-www-form-urlencoded`) was parsed as a form and answered
 * `400 unknown_attribute`, and a type without a parser answered a bare `400`. A catch-all parser hands any other body
 * through unread, so the refusal is made here, where the route's own rules are known, and not by Fastify.
 */
export function acceptJsonBodiesOnly(app: NestFastifyApplication, logger: LoggerService): void {
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
  fastify.addHook('preValidation', (request, reply, done) => {
    if (request.body === undefined || request.routeOptions.config.ownMediaTypes === true) return done();
    const type = request.headers['content-type'];
    if (mediaTypeOf(type) === JSON_TYPE) return done();
    const body: unknown = request.body;
    // The body is not read: stop it, and do not keep the connection for another request.
    if (isReadable(body)) body.pause();
    void reply.header('connection', 'close');
    sendError(request, reply, unsupportedMediaType(type), logger);
  });
}

/** The type without its parameters, lower-cased (`Application/JSON; charset=utf-8` → `application/json`). */
export function mediaTypeOf(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0].trim().toLowerCase();
}

function unsupportedMediaType(type: string | undefined): TwindexError {
  const got = type === undefined ? 'no Content-Type' : `'${mediaTypeOf(type).slice(0, 100)}'`;
  return new TwindexError(
    'unsupported_media_type',
    'unsupported_media_type',
    `Request bodies are ${JSON_TYPE} (got ${got}); send Content-Type: ${JSON_TYPE}`,
  );
}

function isReadable(body: unknown): body is NodeJS.ReadableStream {
  return typeof (body as { pause?: unknown } | null)?.pause === 'function';
}
