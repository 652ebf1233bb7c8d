import type { Caller, IdentityRow, ResolveContext, TwinFacts } from '../model.js';
import { compileRule } from '../rules/rule-compiler.js';
import { RuleBudget } from '../rules/rule-types.js';
import { resolveRows, visibleTwins } from './resolution.js';
import { ResolutionExplainer } from './resolution-explanation.js';
import {
  ACCOUNT_A,
  ACCOUNT_B,
  makeCaller,
  makeRow,
  makeTwin,
  THROWING_RULE,
  TWIN_1,
  TWIN_2,
} from './test-fixtures.js';

const NOW = 2000;
const SYSTEM: ResolveContext = { kind: 'system' };
const TWINS = new Map<string, TwinFacts>([
  [TWIN_1, makeTwin()],
  [TWIN_2, makeTwin({ uuid: TWIN_2, owner: ACCOUNT_B, description: { kind: 'crate' } })],
]);

function explain(rows: IdentityRow[], caller: Caller, details = false, shown = (_uuid: string) => false) {
  const explainer = new ResolutionExplainer(caller);
  const twinOf = (uuid: string) => TWINS.get(uuid);
  const kept = resolveRows(rows, SYSTEM, caller, NOW, twinOf, explainer);
  if (details) visibleTwins(kept, caller, NOW, twinOf, explainer.twinTrace);
  return { rows: explainer.rows(shown), twins: explainer.twins(), listed: explainer.listedTwins() };
}

describe('ResolutionExplainer', () => {
  it("names the caller's own rule that dropped its own row, with the variables that were null", () => {
    const caller = makeCaller({ identityRule: compileRule("DICT.site == 'WAW' and USER.team != null") });
    const { rows } = explain([makeRow({ visibility: compileRule('true'), validityTs: 3000 })], caller);
    expect(rows).toEqual([
      {
        twin: TWIN_1,
        owner: ACCOUNT_A,
        personal: true,
        kept: false,
        visibility: 'true',
        checks: [
          { check: 'context', passed: true },
          { check: 'validity', passed: true, validity_ts: 3000 },
          { check: 'visibility', passed: true, detail: 'own identity' },
          {
            check: 'role.identity_rule',
            passed: false,
            rule: "DICT.site == 'WAW' and USER.team != null",
            missing: ['DICT.site', 'USER.team'],
            detail: 'evaluated to false',
          },
        ],
      },
    ]);
  });

  it("stops at an expired own row's validity", () => {
    const { rows } = explain([makeRow({ validityTs: NOW })], makeCaller());
    expect(rows[0].checks).toEqual([
      { check: 'context', passed: true },
      { check: 'validity', passed: false, validity_ts: NOW },
    ]);
  });

  it("says when the request's rule budget ran out before the rule could decide", () => {
    const caller = makeCaller({
      identityRule: compileRule("DICT.site == 'WAW'"),
      ruleBudget: new RuleBudget(0),
    });
    const { rows } = explain([makeRow()], caller);
    expect(rows[0].checks.at(-1)).toEqual({
      check: 'role.identity_rule',
      passed: false,
      rule: "DICT.site == 'WAW'",
      missing: ['DICT.site'],
      detail: "not evaluated to the end: the request's rule step budget ran out (fails closed)",
      budget: 'spent',
    });
  });

  it('reports an evaluation error of its own rule, and withholds it when it read a twin the caller may not see', () => {
    const reading = compileRule('TWIN.size > 3');
    const own = explain([makeRow({ twin: TWIN_2 })], makeCaller({ identityRule: reading }));
    expect(own.listed).toEqual([TWIN_2]);
    expect(own.rows[0].checks.at(-1)).toEqual({
      check: 'role.identity_rule',
      passed: false,
      rule: 'TWIN.size > 3',
      detail:
        'evaluation failed (fails closed); the message is withheld: it may describe a twin this caller may not see',
    });
    const seen = explain(
      [makeRow({ twin: TWIN_2 })],
      makeCaller({ identityRule: reading }),
      false,
      () => true,
    );
    expect(seen.rows[0].checks.at(-1)).toMatchObject({
      missing: ['TWIN.size'],
      detail: expect.stringMatching(/^evaluation failed \(fails closed\): cannot order/),
    });
    const thrown = explain([makeRow()], makeCaller({ identityRule: THROWING_RULE }));
    expect(thrown.rows[0].checks.at(-1)).toMatchObject({
      detail: 'evaluation failed (fails closed): rule blew up',
    });
  });

  it("lists another account's row only when kept, without its rule, and a grant as a grant", () => {
    const secretRule = compileRule(`account == '${ACCOUNT_A}' and 'owner-secret' != 'x'`);
    const rows = [
      makeRow({ twin: TWIN_2, owner: ACCOUNT_B, visibility: secretRule }),
      makeRow({ twin: TWIN_2, owner: ACCOUNT_B, name: 'RFID#abc', visibility: null, validityTs: 1 }),
      makeRow({ twin: TWIN_1, owner: ACCOUNT_B, grantee: ACCOUNT_A }),
      makeRow({ twin: TWIN_1, owner: ACCOUNT_A, grantee: ACCOUNT_B }),
    ];
    const explained = explain(rows, makeCaller());
    expect(JSON.stringify(explained)).not.toContain('owner-secret');
    expect(explained.rows.map((r) => [r.twin, r.owner, r.personal, r.kept])).toEqual([
      [TWIN_1, ACCOUNT_B, false, true],
      [TWIN_2, ACCOUNT_B, false, true],
    ]);
    expect(explained.rows[0].checks[2]).toEqual({
      check: 'visibility',
      passed: true,
      detail: 'granted to this account by a sync source',
    });
    expect(explained.rows[1].checks).toEqual([
      { check: 'context', passed: true },
      { check: 'validity', passed: true },
      { check: 'visibility', passed: true, detail: 'visibility rule of its owner holds' },
      { check: 'role.identity_rule', passed: true, rule: null, detail: 'the role has none: no restriction' },
    ]);
  });

  it('says by what each resolved twin is visible or not (details=true)', () => {
    const rows = [makeRow(), makeRow({ twin: TWIN_2, owner: ACCOUNT_B, visibility: compileRule('true') })];
    const twinRule = compileRule("TWIN.kind == 'pallet'");
    expect(explain(rows, makeCaller({ twinRule }), true).twins).toEqual([
      { twin: TWIN_1, visible: true, by: 'owner', detail: 'a twin of this account' },
      {
        twin: TWIN_2,
        visible: false,
        by: 'role.twin_rule',
        rule: "TWIN.kind == 'pallet'",
        detail: 'evaluated to false',
      },
    ]);
  });
});
