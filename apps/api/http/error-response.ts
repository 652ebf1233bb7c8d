import { HttpException } from '@nestjs/common';
import { type FailureKind, RateLimitedError, TwindexError } from '../../../libs/domain/errors.js';

export interface ErrorBody {
  subcode: string;
  description: string;
  trace: string;
}

const STATUS_OF: Record<FailureKind, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  unavailable: 503,
};

// Fastify's own failures before a handler runs (body parsing, limits, media types) are all bad input.
const FASTIFY_SUBCODES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_BODY_TOO_LARGE: 'body_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_body',
  FST_ERR_BAD_URL: 'invalid_url',
  FST_ERR_MAX_PARAM_LENGTH: 'path_too_long',
};

// Fastify's messages for these quote the whole path; ours do not (docs/http.md: no answer echoes long input).
const FASTIFY_DESCRIPTIONS: Record<string, string> = {
  FST_ERR_BAD_URL: 'The path has a malformed percent-encoding',
  FST_ERR_MAX_PARAM_LENGTH: 'A path segment is longer than 1024 characters',
};

/** Input quoted in a description is cut to this many characters and an ellipsis… */
const QUOTED_INPUT_CHARS = 100;
/** …when it runs longer than this: a valid identity name (up to 137 characters, quoted) is always shown whole. */
const LONG_INPUT_CHARS = 160;

/**
 * A description never echoes a long input: any run of more than 160 characters without a space (a name, a path,
 * a value) keeps its first 100 and an ellipsis, and the whole stays readable.
 */
export function cutLongInput(description: string): string {
  const cut = description.replace(
    new RegExp(`\\S{${LONG_INPUT_CHARS + 1},}`, 'gu'),
    (run) => `${[...run].slice(0, QUOTED_INPUT_CHARS).join('')}…`,
  );
  return cut.length <= 400 ? cut : `${cut.slice(0, 400)}…`;
}

/** Turns anything thrown while serving a request into the status and body of docs/http.md "Answers". */
export function toErrorResponse(
  err: unknown,
  trace: string,
): { status: number; body: ErrorBody; retryAfter?: number } {
  if (err instanceof TwindexError) {
    const status = STATUS_OF[err.kind];
    return {
      status,
      body: { subcode: err.subcode, description: cutLongInput(err.message), trace },
      retryAfter: err instanceof RateLimitedError ? err.retryAfterSeconds : status === 503 ? 1 : undefined,
    };
  }
  if (err instanceof HttpException) {
    // Nest's Fastify adapter wraps Fastify's own failures (bad JSON, body limit); answer for the original.
    const cause = (err as { cause?: unknown }).cause;
    if (cause && typeof (cause as { statusCode?: unknown }).statusCode === 'number')
      return toErrorResponse(cause, trace);
    const status = err.getStatus();
    if (status === 404)
      return { status, body: { subcode: 'not_found', description: 'No such endpoint', trace } };
    if (status === 503)
      return { status, body: { subcode: 'unavailable', description: err.message, trace }, retryAfter: 1 };
    if (status < 500)
      return { status, body: { subcode: 'bad_request', description: cutLongInput(err.message), trace } };
  }
  const fastify = err as { code?: string; statusCode?: number; message?: string };
  if (typeof fastify?.statusCode === 'number' && fastify.statusCode >= 400 && fastify.statusCode < 500) {
    const subcode =
      (fastify.code && FASTIFY_SUBCODES[fastify.code]) ??
      (fastify.statusCode === 404 ? 'not_found' : 'bad_request');
    // docs/http.md: a body over 64 KiB is bad input (400); only imports answer 413 for their own limit.
    const status = fastify.statusCode === 413 || fastify.statusCode === 415 ? 400 : fastify.statusCode;
    const description =
      (fastify.code && FASTIFY_DESCRIPTIONS[fastify.code]) ?? cutLongInput(fastify.message ?? 'Bad request');
    return { status, body: { subcode, description, trace } };
  }
  return { status: 500, body: { subcode: 'internal_error', description: 'Internal error', trace } };
}
