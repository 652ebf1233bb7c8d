import { ACTION_GROUPS, ACTIONS, type Action } from './action-catalogue.js';
import { BUILT_IN_ROLE_NAMES, BUILT_IN_ROLES, builtInRole } from './built-in-roles.js';
import { allowedActions, invalidActions, isAllowedByStatement } from './permission-evaluation.js';

const allowedBy = (name: 'Admin' | 'Operator' | 'ReadOnly'): Action[] =>
  allowedActions(builtInRole(name).statement, []);

/** The built-in roles of docs/access.md as a matrix: one row per group of actions, with the lists it stands for. */
const MATRIX: {
  row: string;
  actions: readonly Action[];
  admin: boolean;
  operator: boolean;
  readOnly: boolean;
}[] = [
  {
    row: 'resolve, get/list identities and twins, scan, who_am_i',
    actions: [
      'resolve_twin_identity',
      'get_twin_identity',
      'get_twin_identities',
      'get_twin',
      'scan_twins',
      'who_am_i',
    ],
    admin: true,
    operator: true,
    readOnly: true,
  },
  {
    row: 'create/update/delete identities, create/update/terminate twins',
    actions: [
      'create_twin_identity',
      'update_twin_identity',
      'delete_twin_identity',
      'create_twin',
      'update_twin',
      'terminate_twin',
    ],
    admin: true,
    operator: true,
    readOnly: false,
  },
  {
    row: 'sync sources, sync runs, imports (create/update/delete/start)',
    actions: [
      'create_sync_source',
      'update_sync_source',
      'delete_sync_source',
      'start_sync',
      'create_import',
    ],
    admin: true,
    operator: true,
    readOnly: false,
  },
  {
    row: 'mint and refresh user tokens for themselves',
    actions: ['create_user_token', 'refresh_user_token'],
    admin: true,
    operator: true,
    readOnly: true,
  },
  {
    row: 'read sync sources, sync runs, imports',
    actions: ['get_sync_source', 'get_sync_sources', 'get_sync_runs', 'get_import', 'get_imports'],
    admin: true,
    operator: true,
    readOnly: true,
  },
  {
    row: 'account, users, roles, secrets, permissions, assignments (any write)',
    actions: [
      'update_account',
      ...(['create_user', 'update_user', 'delete_user'] as const),
      ...(['create_user_role', 'update_user_role', 'delete_user_role'] as const),
      ...(['create_user_secret_pin', 'update_user_secret', 'delete_user_secret'] as const),
      ...(['create_permission', 'update_permission', 'archive_permission'] as const),
      ...(['assign_permission', 'revoke_permission'] as const),
    ],
    admin: true,
    operator: false,
    readOnly: false,
  },
  {
    row: 'notification topics, subscriptions, access grants (any write)',
    actions: [
      'update_notification_topic',
      'delete_notification_topic',
      'webhook_subscribe',
      'update_notifications_account_access',
    ],
    admin: true,
    operator: true,
    readOnly: false,
  },
  {
    row: 'read topics and subscriptions',
    actions: ['get_notification_topics', 'get_webhook_subscriptions'],
    admin: true,
    operator: true,
    readOnly: true,
  },
  {
    row: 'read users, roles, permissions',
    actions: [
      'get_user',
      'get_users',
      'get_user_role',
      'get_user_roles',
      'get_permission',
      'get_permissions',
      'get_permission_assignments',
    ],
    admin: true,
    operator: false,
    readOnly: false,
  },
  {
    row: 'explain a resolution as themselves',
    actions: ['explain_resolution'],
    admin: true,
    operator: true,
    readOnly: true,
  },
];

describe('built-in roles', () => {
  it('are Admin, Operator and ReadOnly with null rules', () => {
    expect(BUILT_IN_ROLE_NAMES).toEqual(['Admin', 'Operator', 'ReadOnly']);
    for (const role of BUILT_IN_ROLES) expect(role.rules).toEqual({ twin_rule: null, identity_rule: null });
  });

  it('Admin is deny of [] — every action', () => {
    expect(builtInRole('Admin').statement).toEqual({ effect: 'deny', actions: [] });
    expect(allowedBy('Admin')).toEqual([...ACTIONS].sort());
  });

  describe.each(MATRIX)('matrix row "$row"', ({ actions, admin, operator, readOnly }) => {
    it.each(actions)('%s', (action) => {
      expect(isAllowedByStatement(builtInRole('Admin').statement, action)).toBe(admin);
      expect(isAllowedByStatement(builtInRole('Operator').statement, action)).toBe(operator);
      expect(isAllowedByStatement(builtInRole('ReadOnly').statement, action)).toBe(readOnly);
    });
  });

  it('publishes exactly these lists (decisions: get_account for both; get_log and get_notifications_access for Operator only; get_user_secret for neither)', () => {
    expect(builtInRole('ReadOnly').statement).toEqual({
      effect: 'allow',
      actions: [
        'create_user_token',
        'explain_resolution',
        'get_account',
        'get_import',
        'get_imports',
        'get_notification_topics',
        'get_sync_runs',
        'get_sync_source',
        'get_sync_sources',
        'get_twin',
        'get_twin_identities',
        'get_twin_identity',
        'get_webhook_subscriptions',
        'refresh_user_token',
        'resolve_twin_identity',
        'scan_twins',
        'who_am_i',
      ],
    });
    expect(builtInRole('Operator').statement).toEqual({
      effect: 'allow',
      actions: [
        ...ACTION_GROUPS.twins,
        ...ACTION_GROUPS.identities,
        ...ACTION_GROUPS.sync,
        ...ACTION_GROUPS.imports,
        ...ACTION_GROUPS.notifications,
        ...ACTION_GROUPS.tokens,
        'get_account',
        'get_log',
        'who_am_i',
        'explain_resolution',
      ].sort(),
    });
  });

  it('every matrix action is covered by some row, except the silent ones decided above', () => {
    const inMatrix = new Set<string>(MATRIX.flatMap((row) => row.actions));
    expect(ACTIONS.filter((a) => !inMatrix.has(a))).toEqual([
      'get_account',
      'get_user_secret',
      'get_log',
      'get_notifications_access',
    ]);
  });

  it.each([
    ['get_account', true, true],
    ['get_log', true, false],
    ['get_user_secret', false, false],
    ['get_notifications_access', true, false],
  ] as const)('silent-matrix decision: %s → Operator %s, ReadOnly %s', (action, operator, readOnly) => {
    expect(isAllowedByStatement(builtInRole('Operator').statement, action)).toBe(operator);
    expect(isAllowedByStatement(builtInRole('ReadOnly').statement, action)).toBe(readOnly);
  });

  it('ReadOnly ⊂ Operator ⊂ Admin, and lists name only catalogue actions, sorted, without repeats', () => {
    const readOnly = allowedBy('ReadOnly');
    const operator = allowedBy('Operator');
    for (const a of readOnly) expect(operator).toContain(a);
    expect(operator.length).toBeLessThan(ACTIONS.length);
    expect(readOnly.length).toBeLessThan(operator.length);
    for (const role of BUILT_IN_ROLES) {
      const list = role.statement.actions;
      expect(invalidActions(list)).toEqual([]);
      expect([...list].sort()).toEqual(list);
      expect(new Set(list).size).toBe(list.length);
    }
  });

  it('are frozen', () => {
    for (const role of BUILT_IN_ROLES) {
      expect(Object.isFrozen(role)).toBe(true);
      expect(Object.isFrozen(role.statement)).toBe(true);
      expect(Object.isFrozen(role.statement.actions)).toBe(true);
    }
  });
});
