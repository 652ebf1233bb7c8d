import { ACTIONS, type Action, isAction } from './action-catalogue.js';

/**
 * A role statement (docs/access.md "Roles"). `allow`: exactly the listed actions; `deny`: every catalogue action
 * except the listed ones. `actions: null` counts as an empty list, so `{deny, null}` allows everything.
 */
export interface Statement {
  effect: 'allow' | 'deny';
  actions: readonly string[] | null;
}

/**
 * Whether the statement alone allows `action`. Names outside the catalogue are never allowed, even under `deny`:
 * a typo'd or future action must fail closed rather than be allowed by "everything except".
 */
export function isAllowedByStatement(statement: Statement, action: string): boolean {
  if (!isAction(action)) return false;
  const listed = statement.actions !== null && statement.actions.includes(action);
  return statement.effect === 'allow' ? listed : !listed;
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
  if (isAllowedByStatement(statement, action)) return true;
  for (const operations of activePermissionOperations) {
    if (operations.includes(action) && isAction(action)) return true;
  }
  return false;
}

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
