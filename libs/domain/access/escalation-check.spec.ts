import fc from 'fast-check';
import { ACTIONS } from './action-catalogue.js';
import { actionsBeyond, assertMayHandOut, effectiveActions, newlyHandedOut } from './escalation-check.js';

const actionArb = fc.constantFrom(...ACTIONS);
const actionsArb = fc.uniqueArray(actionArb, { maxLength: ACTIONS.length });
const statementArb = fc.record({
  effect: fc.constantFrom('allow' as const, 'deny' as const),
  actions: fc.option(actionsArb, { nil: null }),
});

describe('escalation check (a caller hands out only what it holds)', () => {
  it('a deny statement allows everything not listed, so only a caller holding all of that may give it', () => {
    const held = new Set(['get_twin', 'create_user_role']);
    expect(() =>
      assertMayHandOut(held, effectiveActions({ effect: 'deny', actions: null }), 'this role'),
    ).toThrow(/create_twin/);
    expect(() =>
      assertMayHandOut(held, effectiveActions({ effect: 'allow', actions: ['get_twin'] }), 'this role'),
    ).not.toThrow();
  });

  it('names the missing actions in a 403 forbidden', () => {
    try {
      assertMayHandOut(new Set(['get_twin']), ['get_twin', 'delete_user', 'create_user'], 'the user’s role');
      throw new Error('not refused');
    } catch (e) {
      expect(e).toMatchObject({ kind: 'forbidden', subcode: 'forbidden' });
      expect((e as Error).message).toContain('create_user, delete_user');
    }
  });

  it('ignores names outside the catalogue (they are never allowed anyway) and counts keeping as handing out nothing', () => {
    expect(actionsBeyond(new Set(), ['not_an_action'])).toEqual([]);
    expect(newlyHandedOut(['a', 'b'], ['b', 'c', 'c'])).toEqual(['c']);
  });

  it('property: the check passes exactly when held ⊇ handed out (against a plain set model)', () => {
    fc.assert(
      fc.property(
        actionsArb,
        statementArb,
        fc.array(actionsArb, { maxLength: 3 }),
        (heldList, statement, ops) => {
          const held = new Set<string>(heldList);
          const handedOut = effectiveActions(statement, ops);
          const model = handedOut.filter((a) => !held.has(a)).sort();
          expect(actionsBeyond(held, handedOut)).toEqual(model);
          let refused = false;
          try {
            assertMayHandOut(held, handedOut, 'x');
          } catch {
            refused = true;
          }
          expect(refused).toBe(model.length > 0);
          // Whoever holds everything handed out (e.g. the built-in Admin) may always hand it out.
          expect(() => assertMayHandOut(new Set(ACTIONS), handedOut, 'x')).not.toThrow();
        },
      ),
    );
  });

  it('property: an escalation check on newly handed-out actions never lets the result exceed held ∪ before', () => {
    fc.assert(
      fc.property(actionsArb, statementArb, statementArb, (heldList, before, after) => {
        const held = new Set<string>(heldList);
        const b = effectiveActions(before);
        const a = effectiveActions(after);
        let allowed = true;
        try {
          assertMayHandOut(held, newlyHandedOut(b, a), 'x');
        } catch {
          allowed = false;
        }
        if (allowed) for (const action of a) expect(held.has(action) || b.includes(action)).toBe(true);
      }),
    );
  });
});
