import { ACTIONS, type Action, isAction } from './action-catalogue.js';

/**
 * A role statement (docs/access.md "Roles"). `allow`: exactly the listed actions; `deny`: every catalogue action
 * except the listed ones. `actions: null` counts as an empty list, so `{deny, null}` allows everything.
 */
export interface Statement {
  effect: 'allow' | 'deny';
  actions: readonly string[] | null;
}

/** An active (not archived) permission assigned to the user: its id and operations. */
export interface HeldPermission {
  id: string;
  operations: readonly string[];
}

const STATEMENT = Object.freeze({ kind: 'statement' as const });

/**
 * Which statement or permission decided an action, and why a deny (POST /resolve/explain shows it). The one
 * evaluation of docs/access.md: `isAllowedByStatement` and `isActionAllowed` are this decision's `allowed`.
 */
export type ActionDecision =
  | { allowed: true; by: { kind: 'statement' } | { kind: 'permission'; id: string } }
  | { allowed: false; by: { kind: 'statement' }; reason: string };

/**
 * The role's statement first, then the user's active permissions in the order given. Names outside the catalogue
 * are never allowed, even under `deny`: a typo'd or future action must fail closed rather than be allowed by
 * "everything except".
 */
export function decideAction(
  statement: Statement,
  permissions: readonly HeldPermission[],
  action: string,
): ActionDecision {
  if (!isAction(action)) return { allowed: false, by: STATEMENT, reason: 'not an action of the catalogue' };
  const listed = statement.actions !== null && statement.actions.includes(action);
  if (statement.effect === 'allow' ? listed : !listed) return { allowed: true, by: STATEMENT };
  for (const permission of permissions) {
    if (permission.operations.includes(action)) {
      return { allowed: true, by: { kind: 'permission', id: permission.id } };
    }
  }
  const why = statement.effect === 'allow' ? "not in the role's allow list" : 'denied by the role statement';
  return { allowed: false, by: STATEMENT, reason: `${why}, and no active permission of the user grants it` };
}

/** Whether the statement alone allows `action`. */
export function isAllowedByStatement(statement: Statement, action: string): boolean {
  return decideAction(statement, NO_PERMISSIONS, action).allowed;
}

/**
 * Allowed by the role's statement OR by any active permission held by the user.
 * `activePermissionOperations`: the `operations` of the user's assigned permissions that are not archived —
 * filtering archived ones is the caller's job, because only it knows the permission records.
 */
export function isActionAllowed(
  statement: Statement,
  activePermissionOperations: readonly (readonly string[])[],
  action: string,
): boolean {
  const permissions = activePermissionOperations.map((operations) => ({ id: '', operations }));
  return decideAction(statement, permissions, action).allowed;
}

const NO_PERMISSIONS: readonly HeldPermission[] = Object.freeze([]);

/** Every allowed catalogue action, sorted by name (the `actions` of GET /whoami). */
export function allowedActions(
  statement: Statement,
  activePermissionOperations: readonly (readonly string[])[],
): Action[] {
  return ACTIONS.filter((action) => isActionAllowed(statement, activePermissionOperations, action)).sort();
}

/** The listed names that are not catalogue actions, each once, in order of first appearance (for `400 invalid_action`). */
export function invalidActions(list: readonly string[]): string[] {
  const unknown: string[] = [];
  for (const name of list) {
    if (!isAction(name) && !unknown.includes(name)) unknown.push(name);
  }
  return unknown;
}

/** Names listed more than once, each once (permissions' `operations` must not repeat, docs/access.md). */
export function duplicateActions(list: readonly string[]): string[] {
  const seen = new Set<string>();
  const duplicates: string[] = [];
  for (const name of list) {
    if (seen.has(name) && !duplicates.includes(name)) duplicates.push(name);
    seen.add(name);
  }
  return duplicates;
}
