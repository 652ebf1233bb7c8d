import type { FastifyRequest } from 'fastify';
import { notFound, unauthorized } from '../../../libs/domain/errors.js';
import { normalizeUuid } from '../../../libs/domain/identity/uuid.js';

/** The account of the principal the guard verified. */
export function accountOf(req: FastifyRequest): string {
  if (!req.principal) throw unauthorized();
  return req.principal.account;
}

/** A path id that is not a UUID names no source: 404, like another account's source. */
export function sourcePath(id: string): string {
  const uuid = normalizeUuid(id);
  if (uuid === null) throw notFound('Sync source');
  return uuid;
}
