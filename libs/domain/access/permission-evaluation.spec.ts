import fc from 'fast-check';
import { ACTIONS } from './action-catalogue.js';
import { BUILT_IN_ROLES } from './built-in-roles.js';
import {
  allowedActions,
  duplicateActions,
  invalidActions,
  isActionAllowed,
  isAllowedByStatement,
  type Statement,
} from './permission-evaluation.js';

describe('isAllowedByStatement', () => {
  it.each<[string, Statement, string, boolean]>([
    ['allow lists it', { effect: 'allow', actions: ['get_twin'] }, 'get_twin', true],
    ['allow does not list it', { effect: 'allow', actions: ['get_twin'] }, 'create_twin', false],
    ['allow null = nothing', { effect: 'allow', actions: null }, 'get_twin', false],
    ['allow [] = nothing', { effect: 'allow', actions: [] }, 'who_am_i', false],
    ['deny lists it', { effect: 'deny', actions: ['get_twin'] }, 'get_twin', false],
    ['deny does not list it', { effect: 'deny', actions: ['get_twin'] }, 'create_twin', true],
    ['deny null = everything', { effect: 'deny', actions: null }, 'update_account', true],
    ['deny [] = everything', { effect: 'deny', actions: [] }, 'get_log', true],
    ['unknown action under deny', { effect: 'deny', actions: null }, 'create_user_secret', false],
    ['unknown action under allow that lists it', { effect: 'allow', actions: ['bogus'] }, 'bogus', false],
  ])('%s', (_label, statement, action, expected) => {
    expect(isAllowedByStatement(statement, action)).toBe(expected);
  });
});

describe('isActionAllowed', () => {
  const none: Statement = { effect: 'allow', actions: [] };
  it('allows through the role', () => {
    expect(isActionAllowed({ effect: 'allow', actions: ['get_twin'] }, [], 'get_twin')).toBe(true);
  });
  it('allows through any active permission', () => {
    expect(isActionAllowed(none, [['who_am_i'], ['resolve_twin_identity', 'get_twin']], 'get_twin')).toBe(
      true,
    );
  });
  it('a permission cannot take away what the role allows', () => {
    expect(isActionAllowed({ effect: 'deny', actions: [] }, [['who_am_i']], 'get_twin')).toBe(true);
  });
  it('denies when neither allows', () => {
    expect(isActionAllowed(none, [['who_am_i']], 'get_twin')).toBe(false);
    expect(isActionAllowed({ effect: 'deny', actions: ['get_twin'] }, [], 'get_twin')).toBe(false);
  });
  it('never allows a name outside the catalogue, even if a permission lists it', () => {
    expect(isActionAllowed(none, [['create_user_secret']], 'create_user_secret')).toBe(false);
  });
});

describe('allowedActions', () => {
  it('lists the allowed catalogue actions sorted by name', () => {
    expect(
      allowedActions({ effect: 'allow', actions: ['who_am_i', 'get_twin'] }, [['create_import', 'get_twin']]),
    ).toEqual(['create_import', 'get_twin', 'who_am_i']);
  });
  it('deny of everything but a few', () => {
    const allowed = allowedActions({ effect: 'deny', actions: ['get_log'] }, []);
    expect(allowed).toHaveLength(ACTIONS.length - 1);
    expect(allowed).not.toContain('get_log');
  });
  it('ignores unknown names', () => {
    expect(allowedActions({ effect: 'allow', actions: ['nope'] }, [['nada']])).toEqual([]);
  });
});

describe('invalidActions / duplicateActions', () => {
  it.each([
    [[], []],
    [['get_twin', 'who_am_i'], []],
    [
      ['get_twin', 'nope', 'nope', 'create_user_secret'],
      ['nope', 'create_user_secret'],
    ],
    [['Get_Twin'], ['Get_Twin']],
  ])('invalidActions(%j) = %j', (list, expected) => {
    expect(invalidActions(list)).toEqual(expected);
  });
  it.each([
    [[], []],
    [['a', 'b'], []],
    [
      ['a', 'b', 'a', 'a', 'b', 'c'],
      ['a', 'b'],
    ],
  ])('duplicateActions(%j) = %j', (list, expected) => {
    expect(duplicateActions(list)).toEqual(expected);
  });
});

describe('permission evaluation properties', () => {
  const action = fc.constantFrom(...ACTIONS);
  const name = fc.oneof(action, fc.string({ maxLength: 12 }));
  const actionList = fc.option(fc.array(name, { maxLength: 10 }), { nil: null });
  const statement = fc.record({
    effect: fc.constantFrom<Statement['effect']>('allow', 'deny'),
    actions: actionList,
  });
  const permissions = fc.array(fc.array(name, { maxLength: 5 }), { maxLength: 4 });

  it('allow and deny of the same list are exact complements over the catalogue', () => {
    fc.assert(
      fc.property(actionList, action, (actions, a) => {
        expect(isAllowedByStatement({ effect: 'allow', actions }, a)).toBe(
          !isAllowedByStatement({ effect: 'deny', actions }, a),
        );
      }),
    );
  });

  it('allow admits exactly the listed catalogue actions; null equals []', () => {
    fc.assert(
      fc.property(actionList, action, (actions, a) => {
        expect(isAllowedByStatement({ effect: 'allow', actions }, a)).toBe((actions ?? []).includes(a));
        for (const effect of ['allow', 'deny'] as const) {
          expect(isAllowedByStatement({ effect, actions }, a)).toBe(
            isAllowedByStatement({ effect, actions: actions === null ? [] : actions }, a),
          );
        }
      }),
    );
  });

  it('isActionAllowed = role OR some permission; unknown names never pass', () => {
    fc.assert(
      fc.property(statement, permissions, name, (s, perms, a) => {
        const expected =
          isAllowedByStatement(s, a) || perms.some((ops) => ops.includes(a) && ACTIONS.includes(a as never));
        expect(isActionAllowed(s, perms, a)).toBe(expected);
        if (!(ACTIONS as readonly string[]).includes(a)) expect(isActionAllowed(s, perms, a)).toBe(false);
      }),
    );
  });

  it('allowedActions is exactly the sorted set of allowed catalogue actions, and monotone in permissions', () => {
    fc.assert(
      fc.property(statement, permissions, permissions, (s, perms, more) => {
        const listed = allowedActions(s, perms);
        expect(listed).toEqual(ACTIONS.filter((a) => isActionAllowed(s, perms, a)).sort());
        expect(new Set(listed).size).toBe(listed.length);
        const widened = allowedActions(s, [...perms, ...more]);
        for (const a of listed) expect(widened).toContain(a);
      }),
    );
  });

  it('built-in roles with any permissions still only ever allow catalogue actions, Admin allows all', () => {
    fc.assert(
      fc.property(permissions, (perms) => {
        for (const role of BUILT_IN_ROLES) {
          for (const a of allowedActions(role.statement, perms)) expect(ACTIONS).toContain(a);
        }
        expect(allowedActions(BUILT_IN_ROLES[0].statement, perms)).toHaveLength(ACTIONS.length);
      }),
    );
  });

  it('invalidActions returns exactly the distinct non-catalogue names', () => {
    fc.assert(
      fc.property(fc.array(name, { maxLength: 10 }), (list) => {
        const invalid = invalidActions(list);
        expect(new Set(invalid)).toEqual(
          new Set(list.filter((n) => !(ACTIONS as readonly string[]).includes(n))),
        );
        expect(new Set(invalid).size).toBe(invalid.length);
      }),
    );
  });
});
