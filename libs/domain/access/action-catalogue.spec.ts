import { ACTION_GROUPS, ACTIONS, isAction } from './action-catalogue.js';

describe('action catalogue', () => {
  it('holds the 57 actions of docs/access.md, each once', () => {
    expect(ACTIONS).toHaveLength(57);
    expect(new Set(ACTIONS).size).toBe(ACTIONS.length);
  });

  it('has the groups of docs/access.md with their sizes', () => {
    const sizes = Object.fromEntries(
      Object.entries(ACTION_GROUPS).map(([group, list]) => [group, list.length]),
    );
    expect(sizes).toEqual({
      twins: 5,
      identities: 6,
      account: 2,
      roles: 5,
      users: 5,
      secrets: 4,
      tokens: 2,
      permissions: 8,
      sync: 7,
      imports: 3,
      log: 1,
      who_am_i: 1,
      explain: 1,
      notifications: 7,
    });
  });

  it('uses snake_case names only', () => {
    for (const action of ACTIONS) expect(action).toMatch(/^[a-z]+(_[a-z]+)*$/);
  });

  it.each([
    'resolve_twin_identity',
    'who_am_i',
    'get_log',
    'get_permission_assignments',
    'start_sync',
    'explain_resolution',
  ])('knows %s', (action) => expect(isAction(action)).toBe(true));

  it.each([
    'create_user_secret',
    'webhook_confirm_subscription',
    'webhook_unsubscribe',
    'RESOLVE_TWIN_IDENTITY',
    '',
    'resolve',
    'toString',
    '__proto__',
    'get_twins',
  ])('does not know %s', (action) => expect(isAction(action)).toBe(false));

  it('rejects non-strings', () => {
    expect(isAction(undefined)).toBe(false);
    expect(isAction(['who_am_i'])).toBe(false);
  });

  it('is frozen', () => {
    expect(Object.isFrozen(ACTIONS)).toBe(true);
  });
});
