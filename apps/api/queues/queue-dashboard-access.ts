import type { LoggerService } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuthService } from '../../../libs/access/auth.service.js';
import type { Principal } from '../../../libs/access/principal.js';
import { ACTIONS } from '../../../libs/domain/access/action-catalogue.js';
import { forbidden } from '../../../libs/domain/errors.js';
import { sendError } from '../http/send-error.js';

/**
 * operations.md: the dashboard is for an `Admin` secret. The principal does not say whether its role is the built-in
 * one, so a role merely named "Admin" must also have the built-in Admin's statement (deny of nothing) and every
 * catalogue action allowed; a user role called "Admin" with anything less is refused.
 */
export function isAdminPrincipal(principal: Principal): boolean {
  const { statement } = principal;
  return (
    principal.roleName === 'Admin' &&
    statement.effect === 'deny' &&
    (statement.actions ?? []).length === 0 &&
    ACTIONS.every((action) => principal.allowed.has(action))
  );
}

/** The `onRequest` hook of the dashboard's scope: 401 without a valid secret, 403 unless Admin, API error shape. */
export function queueDashboardGuard(
  auth: Pick<AuthService, 'authenticate'>,
  logger: LoggerService,
): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  return async (request, reply) => {
    try {
      const principal = await auth.authenticate(request.headers.authorization);
      if (!isAdminPrincipal(principal)) throw forbidden('The queue dashboard requires an Admin secret');
      request.principal = principal;
    } catch (err) {
      sendError(request, reply, err, logger);
      return reply as unknown as Promise<void>;
    }
  };
}
