import { isAssignmentId, isPermissionId } from '../../../libs/access/permission-id.js';
import { notFound } from '../../../libs/domain/errors.js';
import { normalizeUuid } from '../../../libs/domain/identity/uuid.js';

/**
 * Path ids are checked before any query: a malformed id answers 404 exactly like a well-formed one that does not
 * exist (or belongs to another account) — nothing can live there, and no 400 tells ids apart.
 */
export function uuidPath(value: string, what: string): string {
  const uuid = normalizeUuid(value);
  if (uuid === null) throw notFound(what);
  return uuid;
}

/** Fingerprints are `twx_` and 8 base62 characters (secret-token.ts). */
export function fingerprintPath(value: string): string {
  if (!/^twx_[0-9A-Za-z]{8}$/.test(value)) throw notFound('Secret');
  return value;
}

export function permissionIdPath(value: string): string {
  if (!isPermissionId(value)) throw notFound('Permission');
  return value;
}

export function assignmentIdPath(value: string): string {
  if (!isAssignmentId(value)) throw notFound('Assignment');
  return value;
}
