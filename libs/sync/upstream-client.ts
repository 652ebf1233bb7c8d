import { type Dispatcher, fetch as undiciFetch } from 'undici';
import type { z } from 'zod';
import { AddressRefused, type UpstreamAddressPolicy } from './upstream-address.js';
import { realSleep, type Sleep, type SourceLimiter } from '../admission/source-limiter.js';
import {
  identitiesSchema,
  twinSchema,
  twinsPageSchema,
  type UpstreamIdentities,
  type UpstreamTwin,
  type UpstreamTwinsPage,
} from './upstream-schemas.js';

/** How hard one call tries before its failure goes to the job (which BullMQ retries again later). */
export interface UpstreamCallPolicy {
  /** Per attempt, headers and body together. */
  timeoutMs: number;
  /** Attempts per call, the first included. */
  maxAttempts: number;
  /** Exponential backoff base for 5xx and network errors. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A 429 asking to wait longer than this fails the call (the job retries later) instead of holding a worker slot. */
  maxRetryAfterMs: number;
}

/**
 * How much of an upstream answer is read at most. Bodies are read chunk by chunk and counted: an answer over its
 * limit is cut off there (memory never grows with what upstream sends) and fails for good, with the reason in the
 * run report. Within the limit the body is parsed whole with JSON.parse (native, several times faster than a
 * streaming parser written in JavaScript): the byte limit is what bounds memory, and a twin's reconcile compares
 * the whole identity list in one transaction anyway, so a streaming parser would hold the same data in the end.
 */
export interface UpstreamBodyLimits {
  /** A scan page (`GET /twins`) or one twin (`GET /twins/{twin}`), in bytes. */
  maxPageBytes: number;
  /** One twin's identity list (`GET /twins/{twin}/identities`), in bytes. */
  maxIdentityListBytes: number;
  /** Identities (every account's together) in one twin's list. */
  maxIdentitiesPerTwin: number;
}

export const DEFAULT_BODY_LIMITS: UpstreamBodyLimits = {
  maxPageBytes: 16 * 1024 * 1024,
  maxIdentityListBytes: 32 * 1024 * 1024,
  maxIdentitiesPerTwin: 50_000,
};

export const DEFAULT_CALL_POLICY: UpstreamCallPolicy = {
  timeoutMs: 15_000,
  maxAttempts: 4,
  baseDelayMs: 250,
  maxDelayMs: 10_000,
  maxRetryAfterMs: 60_000,
};

/** A failed upstream call. Never an empty answer: callers must not reconcile anything from it. */
export class UpstreamError extends Error {
  override name = 'UpstreamError';
  constructor(
    message: string,
    /** False for answers that will not change by asking again (400, 401, 403, an unreadable shape). */
    readonly retryable: boolean,
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface UpstreamClientOptions {
  baseUrl: string;
  /** Sent only to `baseUrl`'s origin (the one it was stored for): never to a redirect target or another host. */
  secret: string;
  /** SSRF guard: IP literals are checked before each request, names by `dispatcher`'s connect-time lookup. */
  addresses: UpstreamAddressPolicy;
  /** Connections whose DNS answers are checked and pinned (UpstreamClients shares one per process). */
  dispatcher?: Dispatcher;
  limiter: SourceLimiter;
  policy?: UpstreamCallPolicy;
  limits?: UpstreamBodyLimits;
  sleep?: Sleep;
  random?: () => number;
  now?: () => number;
}

export interface ScanRequest {
  cursor?: string | null;
  pageSize: number;
  /** Seconds since the epoch. */
  updatedSince?: number;
  /** The run's cancellation (source disabled or deleted, deadline passed): aborts the request in flight. */
  signal?: AbortSignal;
}

type CallOutcome<T> = { kind: 'ok'; value: T } | { kind: 'not_found' };

/**
 * The consumed subset of the Trusted Twin API, over HTTP: scan twins, one twin, one twin's identities. Every call
 * goes through the source's limiter, has a timeout, honours Retry-After on 429, and retries 5xx and network errors
 * with exponential backoff and jitter. `retries` counts the retried attempts, for the run report.
 */
export class UpstreamClient {
  retries = 0;
  private readonly policy: UpstreamCallPolicy;
  private readonly limits: UpstreamBodyLimits;
  private readonly sleep: Sleep;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly base: string;
  private readonly origin: string;

  constructor(private readonly options: UpstreamClientOptions) {
    this.policy = options.policy ?? DEFAULT_CALL_POLICY;
    this.limits = options.limits ?? DEFAULT_BODY_LIMITS;
    this.sleep = options.sleep ?? realSleep;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    this.base = options.baseUrl.replace(/\/+$/, '');
    this.origin = new URL(this.base).origin;
  }

  /** One page of `GET /twins?details=True`; the page size goes as both `count` and `limit`. */
  async scanTwins(request: ScanRequest): Promise<UpstreamTwinsPage> {
    const query: Record<string, string> = {
      // Booleans as Trusted Twin's own client writes them (Python's True/False); Twindex takes any case.
      details: 'True',
      count: String(request.pageSize),
      limit: String(request.pageSize),
    };
    if (request.cursor) query.cursor = request.cursor;
    if (request.updatedSince !== undefined) query.updated_since = request.updatedSince.toFixed(3);
    const out = await this.call('/twins', query, twinsPageSchema, false, this.pageLimit, request.signal);
    if (out.kind !== 'ok') throw new UpstreamError('GET /twins answered 404', false, 404);
    return out.value;
  }

  /** `GET /twins/{twin}`; null when upstream answers 404 (the twin is gone or no longer visible). */
  async getTwin(twin: string, signal?: AbortSignal): Promise<UpstreamTwin | null> {
    const out = await this.call(
      `/twins/${encodeURIComponent(twin)}`,
      {},
      twinSchema,
      true,
      this.pageLimit,
      signal,
    );
    return out.kind === 'ok' ? out.value : null;
  }

  /** Every identity of a twin the credential may see: personal ones of every kind, foreign ones on request. */
  async getIdentities(
    twin: string,
    includeForeign: boolean,
    signal?: AbortSignal,
  ): Promise<UpstreamIdentities | null> {
    const out = await this.call(
      `/twins/${encodeURIComponent(twin)}/identities`,
      { show_personal: 'True', show_expired: 'True', show_foreign: includeForeign ? 'True' : 'False' },
      identitiesSchema,
      true,
      { maxBytes: this.limits.maxIdentityListBytes, setting: 'SYNC_MAX_IDENTITY_LIST_BYTES' },
      signal,
    );
    if (out.kind !== 'ok') return null;
    let count = 0;
    for (const names of Object.values(out.value.accounts)) count += Object.keys(names).length;
    if (count > this.limits.maxIdentitiesPerTwin) {
      // Not a partial reconcile: a list cut short would delete the identities beyond the cut.
      throw new UpstreamError(
        `GET /twins/${twin}/identities: ${count} identities, more than the ${this.limits.maxIdentitiesPerTwin} ` +
          `a twin may have here (SYNC_MAX_IDENTITIES_PER_TWIN)`,
        false,
        200,
      );
    }
    return out.value;
  }

  private get pageLimit(): BodyLimit {
    return { maxBytes: this.limits.maxPageBytes, setting: 'SYNC_MAX_PAGE_BYTES' };
  }

  private async call<S extends z.ZodType>(
    path: string,
    query: Record<string, string>,
    schema: S,
    notFoundAllowed: boolean,
    limit: BodyLimit,
    signal?: AbortSignal,
  ): Promise<CallOutcome<z.output<S>>> {
    const url = new URL(this.base + path);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    for (let attempt = 1; ; attempt++) {
      // A cancelled run asks nothing more, not even a retry: its reason is the failure.
      signal?.throwIfAborted();
      const outcome = await this.attempt(url, `GET ${path}`, schema, notFoundAllowed, limit, signal);
      if (outcome.kind !== 'retry') return outcome;
      if (attempt >= this.policy.maxAttempts) throw outcome.error;
      this.retries++;
      await this.sleep(outcome.waitMs ?? this.backoff(attempt));
    }
  }

  /** One attempt: a result, a failure worth retrying (with the wait upstream asked for), or a thrown final failure. */
  private async attempt<S extends z.ZodType>(
    url: URL,
    what: string,
    schema: S,
    notFoundAllowed: boolean,
    limit: BodyLimit,
    signal?: AbortSignal,
  ): Promise<CallOutcome<z.output<S>> | { kind: 'retry'; error: UpstreamError; waitMs?: number }> {
    let res: { status: number; headers: Headers; text: string };
    try {
      res = await this.options.limiter.run(() => this.fetchOnce(url, limit, signal));
    } catch (e) {
      signal?.throwIfAborted();
      const refused = e instanceof AddressRefused ? e : (e as { cause?: unknown })?.cause;
      if (refused instanceof AddressRefused) throw new UpstreamError(`${what}: ${refused.message}`, false);
      // Asking again brings the same oversized answer: the page or twin fails now, with the reason.
      if (e instanceof BodyTooLarge) {
        throw new UpstreamError(
          `${what}: answer larger than ${limit.maxBytes} bytes (${limit.setting}); not read further`,
          false,
          200,
        );
      }
      // Refused and dropped connections, resets, timeouts.
      return { kind: 'retry', error: new UpstreamError(`${what}: ${describeNetworkError(e)}`, true) };
    }
    if (res.status === 200) {
      let json: unknown;
      try {
        json = JSON.parse(res.text);
      } catch {
        // A body cut short reads as bad JSON: an incomplete answer, worth asking again.
        return { kind: 'retry', error: new UpstreamError(`${what}: answer is not complete JSON`, true, 200) };
      }
      const parsed = schema.safeParse(json);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const where = issue?.path.length ? ` at ${issue.path.map(String).join('.')}` : '';
        throw new UpstreamError(`${what}: unexpected answer${where} (${issue?.message})`, false, 200);
      }
      return { kind: 'ok', value: parsed.data };
    }
    if (res.status === 404 && notFoundAllowed) return { kind: 'not_found' };
    // Our words only: an upstream body never reaches a run report or a log line.
    const error = new UpstreamError(
      `${what}: upstream answered ${res.status}`,
      res.status >= 500 || res.status === 429,
      res.status,
    );
    if (!error.retryable) throw error;
    const retryAfter = parseRetryAfter(res.headers.get('retry-after'), this.now());
    if (retryAfter === undefined) return { kind: 'retry', error };
    // Holding a worker slot for minutes helps nobody: the job fails now and BullMQ retries it later.
    if (retryAfter > this.policy.maxRetryAfterMs) throw error;
    // Every call to this source waits, not only this one.
    this.options.limiter.pauseUntil(this.now() + retryAfter);
    return { kind: 'retry', error, waitMs: retryAfter };
  }

  private async fetchOnce(
    url: URL,
    limit: BodyLimit,
    cancel?: AbortSignal,
  ): Promise<{ status: number; headers: Headers; text: string }> {
    // The credential goes to the origin it was stored for, and nowhere else (paths are ours, but check anyway).
    if (url.origin !== this.origin)
      throw new AddressRefused(`refusing to send the credential to ${url.origin}`);
    this.options.addresses.checkLiteral(url);
    cancel?.throwIfAborted();
    // One deadline for the whole response, headers and every byte of the body: an upstream trickling a byte now
    // and then (each read on time) is still cut at timeoutMs. The signal aborts the body stream as well, and so
    // does the run's own cancellation.
    const timeout = AbortSignal.timeout(this.policy.timeoutMs);
    const signal = cancel ? AbortSignal.any([timeout, cancel]) : timeout;
    const res = await undiciFetch(url, {
      dispatcher: this.options.dispatcher,
      headers: { authorization: this.options.secret, accept: 'application/json' },
      signal,
      redirect: 'error',
    });
    if (res.status !== 200) {
      // Only the status is used (an upstream body never reaches a report): the body is not read at all.
      await res.body?.cancel().catch(() => undefined);
      return { status: res.status, headers: res.headers, text: '' };
    }
    const text = await readBounded(res, limit.maxBytes, signal);
    return { status: res.status, headers: res.headers, text };
  }

  /** Exponential with "equal jitter": half the step fixed, half random, so retries of many jobs spread out. */
  private backoff(attempt: number): number {
    const step = Math.min(this.policy.maxDelayMs, this.policy.baseDelayMs * 2 ** (attempt - 1));
    return step / 2 + this.random() * (step / 2);
  }
}

interface BodyLimit {
  maxBytes: number;
  /** The setting that raises it, named in the failure. */
  setting: string;
}

class BodyTooLarge extends Error {
  override name = 'BodyTooLarge';
}

/**
 * The body as text, read chunk by chunk and counted: past `maxBytes` (or a Content-Length announcing more) the
 * stream is cancelled and BodyTooLarge thrown, so at most about `maxBytes` is ever held. A stalled or trickling body
 * fails when `signal` (the response deadline) fires.
 */
async function readBounded(
  res: { headers: Headers; body: ReadableStream<Uint8Array> | null },
  maxBytes: number,
  signal: AbortSignal,
): Promise<string> {
  const body = res.body;
  if (body === null) return '';
  const announced = Number(res.headers.get('content-length') ?? NaN);
  if (announced > maxBytes) {
    await body.cancel().catch(() => undefined);
    throw new BodyTooLarge();
  }
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      signal.throwIfAborted();
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) throw new BodyTooLarge();
      chunks.push(value);
    }
  } catch (e) {
    await reader.cancel().catch(() => undefined);
    throw e;
  } finally {
    reader.releaseLock();
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

/** Retry-After as seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(header: string | null, nowMs: number): number | undefined {
  if (header === null) return undefined;
  const trimmed = header.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

function describeNetworkError(e: unknown): string {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') return 'timed out';
  const cause = err?.cause?.code ?? err?.cause?.message;
  return cause ? `${err?.message ?? 'network error'} (${cause})` : (err?.message ?? 'network error');
}
