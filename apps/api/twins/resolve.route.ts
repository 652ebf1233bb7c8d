import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AuthService } from '../../../libs/access/auth.service.js';
import { assertValidIdentityName } from '../../../libs/domain/identity/identity-name.js';
import { parseDetails, parseResolveContext } from '../../../libs/domain/visibility/resolve-context.js';
import { authenticateRequest } from '../http/auth.guard.js';
import { sendError } from '../http/send-error.js';
import { ResolveService } from './resolve.service.js';
import { renderResolveAnswer } from './resolve-answer.js';
import { nowSeconds } from '../../../libs/store/clock.js';

export const RESOLVE_ROUTE_PATH = '/resolve/:identity';

/**
 * `GET /resolve/{identity}` registered on Fastify itself rather than as a Nest route: the RFID-gate hot path skips
 * Nest's router, guard and pipe machinery (≈ a third of a cached request's cost). It admits requests through the same
 * `authenticateRequest` as the global guard, answers errors through the same error handler, and the e2e suites hit
 * this very route. Its OpenAPI entry is added in `openapi-extras.ts`.
 */
@Injectable()
export class ResolveRoute implements OnModuleInit {
  private readonly logger = new Logger('resolve');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly auth: AuthService,
    private readonly resolver: ResolveService,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    // Errors are answered here with the API's error shape; Fastify's error handler belongs to Nest.
    fastify.get(RESOLVE_ROUTE_PATH, (request, reply) =>
      this.handle(request, reply).catch((err: unknown) => sendError(request, reply, err, this.logger)),
    );
  }

  private async handle(request: FastifyRequest, reply: FastifyReply): Promise<string> {
    const admitted = authenticateRequest(this.auth, request, 'resolve_twin_identity');
    const principal = admitted instanceof Promise ? await admitted : admitted;
    request.principal = principal;
    // The router has decoded the path segment once (%23 → #); validate what it decoded.
    const identity = (request.params as { identity: string }).identity;
    assertValidIdentityName(identity);
    const query = request.query as Record<string, unknown>;
    const context = parseResolveContext(query.context);
    const details = parseDetails(query.details);
    const answer = await this.resolver.resolve(principal, identity, context, details, nowSeconds());
    void reply.header('content-type', 'application/json; charset=utf-8');
    return JSON.stringify(renderResolveAnswer(answer));
  }
}
