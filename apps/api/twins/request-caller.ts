import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { type FastifyRequest } from 'fastify';
import type { Principal } from '../../../libs/access/principal.js';
import { unauthorized } from '../../../libs/domain/errors.js';
import type { AuditActor } from '../../../libs/store/audit-log.repository.js';

/** The verified caller of a request and the request id its writes are audited under. */
export interface RequestCaller {
  principal: Principal;
  actor: AuditActor;
}

/** Reads what the global AuthGuard established; a route without a principal here is a wiring bug, refused as 401. */
export const Caller = createParamDecorator((_data: unknown, ctx: ExecutionContext): RequestCaller => {
  const request = ctx.switchToHttp().getRequest<FastifyRequest>();
  const principal = request.principal;
  if (!principal) throw unauthorized();
  return {
    principal,
    actor: { account: principal.account, user: principal.user, trace: String(request.id) },
  };
});
