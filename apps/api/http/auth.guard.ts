import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { IncomingMessage } from 'node:http';
import { type FastifyRequest } from 'fastify';
import { AuthService } from '../../../libs/access/auth.service.js';
import { type Principal } from '../../../libs/access/principal.js';
import type { Action } from '../../../libs/domain/access/action-catalogue.js';
import { TwindexError } from '../../../libs/domain/errors.js';
import { ACTION_KEY, type RouteAccess } from './action.decorator.js';
import { parseTrustedTwinHeader } from './trusted-twin-header.js';

/** Global guard: a route without a declared access rule is closed, never open by omission. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: AuthService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const access = this.reflector.getAllAndOverride<RouteAccess | undefined>(ACTION_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!access) {
      throw new TwindexError('forbidden', 'forbidden', 'This endpoint declares no action and is closed');
    }
    if (access.kind !== 'action') return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    request.principal = await authenticateRequest(this.auth, request, access.action);
    return true;
  }
}

/** Shared by the guard and the lean (Fastify-native) routes so both admit requests identically. */
export function authenticateRequest(
  auth: AuthService,
  request: Pick<FastifyRequest, 'headers' | 'ip'> | IncomingMessage,
  action: Action,
): Principal | Promise<Principal> {
  let found: Principal | Promise<Principal>;
  try {
    found = auth.authenticate(request.headers.authorization);
  } catch (err) {
    // Only failures are counted (abuse throttling); the success path above pays nothing for it.
    return auth.failed(clientAddress(request), err);
  }
  const finish = (p: Principal): Principal => {
    auth.authorize(p, action);
    const header = request.headers['x-trustedtwin'];
    if (header === undefined) return p;
    // docs/rules.md "Variables": a token's signed secret_dict is merged over the header's dictionary; the signed
    // values win.
    return { ...p, dict: { ...parseTrustedTwinHeader(header), ...(p.token?.secretDict ?? {}) } };
  };
  return found instanceof Promise
    ? found.then(finish, (err: unknown) => auth.failed(clientAddress(request), err))
    : finish(found);
}

/** The peer address, the same for a Fastify request and the lean routes' raw one (X-Forwarded-For is not trusted). */
function clientAddress(request: Pick<FastifyRequest, 'ip'> | IncomingMessage): string {
  return 'ip' in request ? request.ip : (request.socket.remoteAddress ?? 'unknown');
}
