import { forbidden } from '../errors.js';
import { isAction } from './action-catalogue.js';
import { allowedActions, type Statement } from './permission-evaluation.js';

/**
 * Privilege escalation through user management (roles, users, PINs, permissions) is closed by one rule: a caller
 * may hand out only actions it holds itself. "Hand out" is what a write makes someone able to do that they could
 * not before; the caller's "held" actions are its effective set (role statement OR assigned permissions).
 * ("Grant" is kept for identity grants, the identity_grants table of sync.)
 */

/** The catalogue actions a role statement plus permission operations allow (the effective set, sorted). */
export function effectiveActions(
  statement: Statement,
  permissionOperations: readonly (readonly string[])[] = [],
): string[] {
  return allowedActions(statement, permissionOperations);
}

/** The catalogue actions in `handedOut` that `held` lacks: each once, sorted. Empty = the write may proceed. */
export function actionsBeyond(held: ReadonlySet<string>, handedOut: Iterable<string>): string[] {
  const beyond = new Set<string>();
  for (const action of handedOut) if (isAction(action) && !held.has(action)) beyond.add(action);
  return [...beyond].sort();
}

/** What `after` allows that `before` did not (keeping an action already allowed hands out nothing new). */
export function newlyHandedOut(before: Iterable<string>, after: Iterable<string>): string[] {
  const had = new Set(before);
  return [...new Set(after)].filter((action) => !had.has(action));
}

/**
 * Throws `403 forbidden` naming the actions the caller lacks, when `handedOut` holds any. `what` says what the
 * write was ("the role", "user's role", …) for the description, whose wording clients have seen since the first
 * release and is therefore kept.
 */
export function assertMayHandOut(held: ReadonlySet<string>, handedOut: Iterable<string>, what: string): void {
  const missing = actionsBeyond(held, handedOut);
  if (missing.length === 0) return;
  const shown = missing.length > 10 ? [...missing.slice(0, 10), `… (${missing.length} in all)`] : missing;
  throw forbidden(`Cannot grant ${what}: it allows action(s) the caller does not hold: ${shown.join(', ')}`);
}
