import type { FastifyRequest } from 'fastify';
import type { Principal } from '../../../libs/access/principal.js';
import { unauthorized } from '../../../libs/domain/errors.js';

/** The principal the guard verified; routes declaring an action never run without one. */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw unauthorized();
  return req.principal;
}
