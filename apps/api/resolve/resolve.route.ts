import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery, type ParsedUrlQuery } from 'node:querystring';
import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AuthService } from '../../../libs/access/auth.service.js';
import { refuseAfterPause, ResolveShare } from '../../../libs/admission/resolve-share.js';
import type { Principal } from '../../../libs/access/principal.js';
import { authenticateRequest } from '../http/auth.guard.js';
import type { LeanHandler } from '../http/lean-dispatch.js';
import type { RequestAccounting } from '../http/request-accounting.js';
import { traceOf } from '../http/trace-id.js';
import { sendError, sendRawError } from '../http/send-error.js';
import { type ResolveAnswer, ResolveService } from './resolve.service.js';
import { resolveAnswerJson } from './resolve-answer.js';
import { RESOLVE_IDENTITY } from './resolve-operation.js';
import { nowSeconds } from '../../../libs/clock/clock.js';

const { route: ROUTE, prefix: PREFIX, action: ACTION, parameters: PARAMETERS } = RESOLVE_IDENTITY;
/** Fastify's maxParamLength (api-app.ts): longer segments are left to it (it answers 414). */
const MAX_SEGMENT = 1024;
/** The routes whose bodies name the names to resolve (the batch and the explanation). */
const BEFORE_BODY = new Set(['/resolve', '/resolve/explain']);
const NO_QUERY: ParsedUrlQuery = Object.freeze(Object.create(null) as ParsedUrlQuery);

/**
 * `GET /resolve/{identity}`, the RFID-gate hot path, in two forms sharing one body of code:
 *
 * - `leanHandler`: offered every request by the server factory (http/lean-dispatch.ts) *before* Fastify. It serves a
 *   plain `GET /resolve/<one segment>` on the raw request: parse path and query, admit through the same
 *   `authenticateRequest` as the guard, resolve (synchronously when the principal and the entry are cached), write the
 *   answer, account for the request (same latency histogram and log line as every route). Anything unusual — HEAD,
 *   an empty, over-long or undecodable segment, a nested path — is left to Fastify.
 * - the Fastify route below, which serves exactly those leftovers (and HEAD) with the same admission and errors.
 *
 * What the route is — path, action, parameters with their parsers, answers — is described once in
 * resolve-operation.ts; its OpenAPI entry (apps/api/openapi/lean-routes.ts) is written from that description.
 */
@Injectable()
export class ResolveRoute implements OnModuleInit {
  private readonly logger = new Logger('resolve');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly auth: AuthService,
    private readonly resolver: ResolveService,
    private readonly share: ResolveShare,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    // Errors are answered here with the API's error shape; Fastify's error handler belongs to Nest.
    fastify.get(ROUTE, (request, reply) =>
      this.handle(request, reply).catch((err: unknown) => sendError(request, reply, err, this.logger)),
    );
    fastify.addHook('onRequest', (request, reply, done) => {
      if (this.refusedBeforeBody(request, reply)) return;
      done();
    });
  }

  /**
   * POST /resolve and POST /resolve/explain from an account past its share are answered 429 before their body is
   * read: the controllers' own check comes after Fastify has parsed up to 1,000 names, and a client that keeps
   * sending batches past its share would otherwise cost a parse per refusal. Only an API key whose caller is cached is
   * looked at here (no database call, no token verification); anything else is left to the controllers' check.
   */
  private refusedBeforeBody(request: FastifyRequest, reply: FastifyReply): boolean {
    if (request.method !== 'POST' || !BEFORE_BODY.has(request.routeOptions.url ?? '')) return false;
    const account = this.auth.cachedAccount(request.headers.authorization);
    if (account === undefined) return false;
    const refused = this.share.refusalNow(account, performance.now());
    if (refused === undefined) return false;
    refuseAfterPause(refused).catch((err: unknown) => sendError(request, reply, err, this.logger));
    return true;
  }

  private async handle(request: FastifyRequest, reply: FastifyReply): Promise<string> {
    const admitted = authenticateRequest(this.auth, request, ACTION);
    const principal = admitted instanceof Promise ? await admitted : admitted;
    request.principal = principal;
    const identity = (request.params as { identity: string }).identity;
    const query = request.query as Record<string, unknown>;
    const answer = this.answer(principal, identity, query);
    void reply.header('content-type', 'application/json; charset=utf-8');
    return resolveAnswerJson(answer instanceof Promise ? await answer : answer);
  }

  /** Admission to the account's share, validation and resolution, shared by both forms; synchronous when cached. */
  private answer(
    principal: Principal,
    identity: string,
    query: Record<string, unknown>,
  ): ResolveAnswer | Promise<ResolveAnswer> {
    const refused = this.share.admit(principal.account, 1, performance.now());
    if (refused) return refuseAfterPause(refused);
    const name = PARAMETERS.identity.parse(identity);
    const context = PARAMETERS.context.parse(query.context);
    const details = PARAMETERS.details.parse(query.details);
    const now = nowSeconds();
    return (
      this.resolver.resolveNow(principal, name, context, details, now) ??
      this.resolver.resolve(principal, name, context, details, now)
    );
  }

  /** The lean form; `accounting` is the application's (same histogram, same log destination as every route). */
  leanHandler(accounting: RequestAccounting): LeanHandler {
    const finish = (started: number, trace: string, account: string | undefined, status: number) =>
      accounting.record(RESOLVE_IDENTITY.method, ROUTE, status, performance.now() - started, trace, account);

    const fail = (
      res: ServerResponse,
      started: number,
      trace: string,
      account: string | undefined,
      err: unknown,
    ) => finish(started, trace, account, sendRawError(res, trace, err, this.logger));

    const respond = (
      res: ServerResponse,
      started: number,
      trace: string,
      account: string,
      answer: ResolveAnswer,
    ) => {
      const body = resolveAnswerJson(answer);
      res.writeHead(200, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': answer.details ? Buffer.byteLength(body) : body.length,
        'x-request-id': trace,
      });
      res.end(body);
      finish(started, trace, account, 200);
    };

    const serve = (
      res: ServerResponse,
      started: number,
      trace: string,
      principal: Principal,
      identity: string,
      query: ParsedUrlQuery,
    ) => {
      const account = principal.account;
      try {
        const answer = this.answer(principal, identity, query);
        if (answer instanceof Promise) {
          answer.then(
            (a) => respond(res, started, trace, account, a),
            (err: unknown) => fail(res, started, trace, account, err),
          );
        } else respond(res, started, trace, account, answer);
      } catch (err) {
        fail(res, started, trace, account, err);
      }
    };

    return (req: IncomingMessage, res: ServerResponse): boolean => {
      if (req.method !== RESOLVE_IDENTITY.method) return false;
      const url = req.url ?? '';
      if (!url.startsWith(PREFIX)) return false;
      const q = url.indexOf('?', PREFIX.length);
      const segment = q === -1 ? url.slice(PREFIX.length) : url.slice(PREFIX.length, q);
      if (segment.length === 0 || segment.length > MAX_SEGMENT || segment.includes('/')) return false;
      let identity = segment;
      if (segment.includes('%')) {
        try {
          identity = decodeURIComponent(segment);
        } catch {
          return false; // Fastify answers malformed percent-encoding through frameworkErrors
        }
      }
      const started = performance.now();
      const trace = traceOf(req.headers);
      const query = q === -1 ? NO_QUERY : parseQuery(url.slice(q + 1));
      try {
        const admitted = authenticateRequest(this.auth, req, ACTION);
        if (admitted instanceof Promise) {
          admitted.then(
            (p) => serve(res, started, trace, p, identity, query),
            (err: unknown) => fail(res, started, trace, undefined, err),
          );
        } else serve(res, started, trace, admitted, identity, query);
      } catch (err) {
        fail(res, started, trace, undefined, err);
      }
      return true;
    };
  }
}
