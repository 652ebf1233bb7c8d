/**
 * The action catalogue of docs/access.md, grouped as that page groups it. An action is the operation name of an
 * endpoint; role statements and permissions may only name these. `create_user_secret` (the public PIN exchange) is
 * not an action: it runs without a secret, so no statement can allow or deny it; nor are the public
 * `webhook_confirm_subscription`, `webhook_refresh_subscription` and `webhook_unsubscribe`, whose token is the credential.
 */
export const ACTION_GROUPS = {
  twins: ['create_twin', 'get_twin', 'scan_twins', 'update_twin', 'terminate_twin'],
  identities: [
    'create_twin_identity',
    'get_twin_identity',
    'update_twin_identity',
    'delete_twin_identity',
    'get_twin_identities',
    'resolve_twin_identity',
  ],
  account: ['get_account', 'update_account'],
  roles: ['create_user_role', 'get_user_role', 'get_user_roles', 'update_user_role', 'delete_user_role'],
  users: ['create_user', 'get_user', 'get_users', 'update_user', 'delete_user'],
  secrets: ['create_user_secret_pin', 'get_user_secret', 'update_user_secret', 'delete_user_secret'],
  tokens: ['create_user_token', 'refresh_user_token'],
  permissions: [
    'create_permission',
    'get_permission',
    'get_permissions',
    'update_permission',
    'archive_permission',
    'assign_permission',
    'revoke_permission',
    'get_permission_assignments',
  ],
  sync: [
    'create_sync_source',
    'get_sync_source',
    'get_sync_sources',
    'update_sync_source',
    'delete_sync_source',
    'start_sync',
    'get_sync_runs',
  ],
  imports: ['create_import', 'get_import', 'get_imports'],
  log: ['get_log'],
  who_am_i: ['who_am_i'],
  explain: ['explain_resolution'],
  notifications: [
    'webhook_subscribe',
    'get_notifications_access',
    'update_notifications_account_access',
    'update_notification_topic',
    'get_notification_topics',
    'delete_notification_topic',
    'get_webhook_subscriptions',
  ],
} as const;

export type ActionGroup = keyof typeof ACTION_GROUPS;
export type Action = (typeof ACTION_GROUPS)[ActionGroup][number];

/** Every action once, in catalogue order. */
export const ACTIONS: readonly Action[] = Object.freeze(
  (Object.keys(ACTION_GROUPS) as ActionGroup[]).flatMap((group): readonly Action[] => ACTION_GROUPS[group]),
);

const ACTION_SET: ReadonlySet<string> = new Set<string>(ACTIONS);

export function isAction(s: unknown): s is Action {
  return typeof s === 'string' && ACTION_SET.has(s);
}
