/**
 * Typed failures the API answers with. The kind is mapped to an HTTP status in exactly one place
 * (the API's exception filter); the subcode is the stable machine-readable name of docs/http.md "Answers".
 */
export type FailureKind =
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'rate_limited'
  | 'unavailable';

export class TwindexError extends Error {
  override name = 'TwindexError';
  constructor(
    readonly kind: FailureKind,
    readonly subcode: string,
    description: string,
  ) {
    super(description);
  }
}

/** 429: too many failures; the client may try again after `retryAfterSeconds` (sent as `Retry-After`). */
export class RateLimitedError extends TwindexError {
  constructor(
    readonly retryAfterSeconds: number,
    description = `Too many failed attempts; try again in ${retryAfterSeconds} s`,
    subcode = 'rate_limited',
  ) {
    super('rate_limited', subcode, description);
  }
}

/**
 * 429 `backlog_full` / `staging_full`: the account (or source) already has as much work waiting as its fair share
 * allows; nothing of the request was kept, and it may be sent again after `Retry-After`.
 */
export class BacklogFullError extends RateLimitedError {
  constructor(
    description: string,
    retryAfterSeconds: number,
    subcode: 'backlog_full' | 'staging_full' = 'backlog_full',
  ) {
    super(Math.max(1, Math.ceil(retryAfterSeconds)), description, subcode);
  }
}

export const badRequest = (subcode: string, description: string) =>
  new TwindexError('bad_request', subcode, description);
export const notFound = (what: string) => new TwindexError('not_found', 'not_found', `${what} not found`);
export const forbidden = (description: string) => new TwindexError('forbidden', 'forbidden', description);
export const unauthorized = (description = 'Missing, unknown, revoked or expired secret') =>
  new TwindexError('unauthorized', 'unauthorized', description);
