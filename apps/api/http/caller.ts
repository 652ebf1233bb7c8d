import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { type FastifyRequest } from 'fastify';
import type { Principal } from '../../../libs/access/principal.js';
import { unauthorized } from '../../../libs/domain/errors.js';
import type { AuditActor } from '../../../libs/store/audit-log.repository.js';

/**
 * The one place a route reads who is calling. The global AuthGuard (or a lean route) sets `request.principal`;
 * a route that reaches here without one is a wiring bug, refused as 401 rather than served anonymously.
 */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw unauthorized();
  return request.principal;
}

/** The account of the verified caller. */
export function accountOf(request: FastifyRequest): string {
  return principalOf(request).account;
}

/** The verified caller of a request and the request id its writes are audited under. */
export interface RequestCaller {
  principal: Principal;
  actor: AuditActor;
}

export function callerOf(request: FastifyRequest): RequestCaller {
  const principal = principalOf(request);
  return {
    principal,
    actor: { account: principal.account, user: principal.user, trace: String(request.id) },
  };
}

/** `@Caller() caller: RequestCaller` in a controller method. */
export const Caller = createParamDecorator((_data: unknown, ctx: ExecutionContext): RequestCaller =>
  callerOf(ctx.switchToHttp().getRequest<FastifyRequest>()),
);
