import { ACTION_GROUPS, type Action } from './action-catalogue.js';
import type { Statement } from './permission-evaluation.js';

export type BuiltInRoleName = 'Admin' | 'Operator' | 'ReadOnly';

export interface BuiltInRole {
  readonly name: BuiltInRoleName;
  readonly statement: Readonly<Statement> & { readonly actions: readonly Action[] };
  /** Built-in roles see no foreign twins and add no identity restriction (both rules null). */
  readonly rules: { readonly twin_rule: null; readonly identity_rule: null };
}

const { twins, identities, sync, imports, notifications } = ACTION_GROUPS;

/**
 * What every built-in role may do with the index (docs/access.md "Built-in roles"): resolve, get/list identities and
 * twins, scan, who_am_i.
 */
const READ_INDEX: readonly Action[] = [
  'resolve_twin_identity',
  'get_twin_identity',
  'get_twin_identities',
  'get_twin',
  'scan_twins',
  'who_am_i',
];

/** Every built-in role mints and refreshes user tokens for itself. */
const TOKENS: readonly Action[] = ACTION_GROUPS.tokens;

/** Reading sync sources, sync runs and imports. */
const READ_SYNC: readonly Action[] = [
  'get_sync_source',
  'get_sync_sources',
  'get_sync_runs',
  'get_import',
  'get_imports',
];

/** Reading notification topics and the account's subscriptions (not the grants: who else may subscribe). */
const READ_NOTIFICATIONS: readonly Action[] = ['get_notification_topics', 'get_webhook_subscriptions'];

/**
 * ReadOnly: the index reads, tokens, and the sync and import reads, plus `get_account` (docs/access.md "Built-in
 * roles"), explaining a resolution as themselves included. Our own decisions there:
 * - `get_account` allowed: it shows only uuid, name and timestamps, which `who_am_i` (already allowed) reveals anyway.
 * - `get_notifications_access` denied: which other accounts may subscribe to this account's topics is access data.
 * - `get_log` denied: the audit trail names users, actions and targets of every write in the account — oversight data
 *   beyond what a read-only index token needs.
 */
const READ_ONLY_ACTIONS: readonly Action[] = [
  ...READ_INDEX,
  ...TOKENS,
  ...READ_SYNC,
  'get_account',
  ...ACTION_GROUPS.explain,
  ...READ_NOTIFICATIONS,
];

/**
 * Operator: every catalogue action (notification topics, subscriptions and grants included) except the
 * account/users/roles/secrets/permissions/assignments writes and the reads of users, roles and permissions (docs/access.md "Built-in roles"). Our own decisions there:
 * - `get_user_secret` denied: it lists a user's secrets (fingerprints, expiry) under `/users/{user}` — a read of users.
 * - `get_account` allowed (as for ReadOnly) and `get_log` allowed: an operator runs the index's writes and syncs and
 *   needs to audit them.
 * An explicit allow list (not `deny` of the admin actions) so that an action added to the catalogue later is not
 * silently handed out to every existing Operator token.
 */
const OPERATOR_ACTIONS: readonly Action[] = [
  ...twins,
  ...identities,
  ...sync,
  ...imports,
  ...notifications,
  ...TOKENS,
  'get_account',
  'get_log',
  'who_am_i',
  ...ACTION_GROUPS.explain,
];

export const BUILT_IN_ROLES: readonly BuiltInRole[] = Object.freeze([
  role('Admin', 'deny', []),
  role('Operator', 'allow', OPERATOR_ACTIONS),
  role('ReadOnly', 'allow', READ_ONLY_ACTIONS),
]);

export const BUILT_IN_ROLE_NAMES: readonly BuiltInRoleName[] = BUILT_IN_ROLES.map((r) => r.name);

export function builtInRole(name: BuiltInRoleName): BuiltInRole {
  const found = BUILT_IN_ROLES.find((r) => r.name === name);
  if (!found) throw new Error(`unknown built-in role ${name}`);
  return found;
}

function role(name: BuiltInRoleName, effect: Statement['effect'], actions: readonly Action[]): BuiltInRole {
  // Sorted so GET /roles and the README publish one stable list.
  const sorted = Object.freeze([...actions].sort());
  return Object.freeze({
    name,
    statement: Object.freeze({ effect, actions: sorted }),
    rules: Object.freeze({ twin_rule: null, identity_rule: null }),
  });
}
