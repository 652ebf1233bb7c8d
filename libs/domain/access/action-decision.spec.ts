import fc from 'fast-check';
import { ACTIONS } from './action-catalogue.js';
import { decideAction, isActionAllowed, type Statement } from './permission-evaluation.js';

describe('decideAction', () => {
  const allowResolve: Statement = { effect: 'allow', actions: ['resolve_twin_identity'] };

  it('names the role statement when it allows', () => {
    expect(decideAction(allowResolve, [], 'resolve_twin_identity')).toEqual({
      allowed: true,
      by: { kind: 'statement' },
    });
    expect(decideAction({ effect: 'deny', actions: null }, [], 'get_twin')).toMatchObject({ allowed: true });
  });

  it('names the first active permission that grants what the statement does not', () => {
    const permissions = [
      { id: 'pm-aaaaa-aaaaa-aaaaaaaaaaaaaa', operations: ['who_am_i'] },
      { id: 'pm-bbbbb-bbbbb-bbbbbbbbbbbbbb', operations: ['get_twin', 'scan_twins'] },
    ];
    expect(decideAction(allowResolve, permissions, 'scan_twins')).toEqual({
      allowed: true,
      by: { kind: 'permission', id: 'pm-bbbbb-bbbbb-bbbbbbbbbbbbbb' },
    });
  });

  it('says why a deny: not in the allow list, denied by the statement, or not an action at all', () => {
    expect(decideAction(allowResolve, [], 'get_twin')).toMatchObject({
      allowed: false,
      reason: "not in the role's allow list, and no active permission of the user grants it",
    });
    expect(decideAction({ effect: 'deny', actions: ['get_twin'] }, [], 'get_twin')).toMatchObject({
      allowed: false,
      reason: 'denied by the role statement, and no active permission of the user grants it',
    });
    expect(decideAction({ effect: 'deny', actions: [] }, [], 'get_twins')).toMatchObject({
      allowed: false,
      reason: 'not an action of the catalogue',
    });
  });

  it('agrees with the plain rule of docs/access.md: statement OR any active permission', () => {
    const names = [...ACTIONS.slice(0, 6), 'not_an_action'];
    fc.assert(
      fc.property(
        fc.constantFrom('allow' as const, 'deny' as const),
        fc.option(fc.subarray(names), { nil: null }),
        fc.array(fc.subarray(names), { maxLength: 3 }),
        fc.constantFrom(...names),
        (effect, actions, operations, action) => {
          const listed = actions?.includes(action) ?? false;
          const known = (ACTIONS as readonly string[]).includes(action);
          const reference =
            known && ((effect === 'allow' ? listed : !listed) || operations.some((o) => o.includes(action)));
          expect(isActionAllowed({ effect, actions }, operations, action)).toBe(reference);
          const permissions = operations.map((o, i) => ({ id: `p${i}`, operations: o }));
          expect(decideAction({ effect, actions }, permissions, action).allowed).toBe(reference);
        },
      ),
    );
  });
});
