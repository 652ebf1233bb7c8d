import { RuleCompiler } from '../rules/rule-cache.js';
import {
  evaluateRule,
  ruleBudgetSpent,
  ruleNeedsTwinFacts,
  ruleVariables,
  variablesFor,
  withRequestRuleBudget,
} from './rule-variables.js';
import {
  ACCOUNT_B,
  FALSE_RULE,
  fakeRule,
  makeCaller,
  makeTwin,
  THROWING_RULE,
  TRUE_RULE,
  TWIN_2,
} from './test-fixtures.js';

describe('ruleVariables', () => {
  const caller = makeCaller({ dict: { site: 'KRK' } });

  it('sets every variable of docs/rules.md from the caller, the clock, the twin and the identity', () => {
    const twin = makeTwin({
      uuid: TWIN_2,
      owner: ACCOUNT_B,
      status: 'terminated',
      description: { kind: 'box' },
    });
    expect(ruleVariables(caller, 1234.5, twin, 'GTIN#1')).toEqual({
      account: caller.account,
      user: caller.user,
      role: caller.role,
      now: 1234.5,
      twin: TWIN_2,
      identity: 'GTIN#1',
      twin_owner: ACCOUNT_B,
      twin_status: 'terminated',
      TWIN: { kind: 'box' },
      USER: { site: 'WAW' },
      DICT: { site: 'KRK' },
    });
  });

  it('leaves identity null for twin rules and twin variables null without a twin', () => {
    const vars = ruleVariables(caller, 1, undefined);
    expect(vars.identity).toBeNull();
    expect(vars.twin).toBeNull();
    expect(vars.twin_owner).toBeNull();
    expect(vars.twin_status).toBeNull();
    expect(vars.TWIN).toBeNull();
  });

  it('always has the same keys in the same order (one object shape for the evaluator)', () => {
    const a = Object.keys(ruleVariables(caller, 1, undefined));
    const b = Object.keys(ruleVariables(caller, 1, makeTwin(), 'A#b'));
    expect(a).toEqual(b);
    expect(a).toHaveLength(11);
  });
});

describe('variablesFor', () => {
  it('keeps the twin UUID when the twin facts are unknown', () => {
    const vars = variablesFor(makeCaller(), 5, TWIN_2, undefined, 'A#b');
    expect(vars.twin).toBe(TWIN_2);
    expect(vars.TWIN).toBeNull();
    expect(vars.identity).toBe('A#b');
  });
});

describe('evaluateRule', () => {
  const vars = ruleVariables(makeCaller(), 1, undefined);
  it.each([
    ['true', TRUE_RULE, true],
    ['false', FALSE_RULE, false],
    ['throwing (fails closed)', THROWING_RULE, false],
    ['truthy non-boolean (fails closed)', fakeRule('1', () => 1 as unknown as boolean), false],
  ])('%s', (_label, rule, expected) => {
    expect(evaluateRule(rule, vars)).toBe(expected);
  });

  it('passes the variables through', () => {
    const rule = fakeRule('account == A', (v) => v.account === makeCaller().account);
    expect(evaluateRule(rule, vars)).toBe(true);
  });
});

describe('ruleNeedsTwinFacts', () => {
  it.each([
    [null, false],
    [fakeRule('true', () => true), false],
    [fakeRule('twin == x', () => true, ['twin']), false],
    [fakeRule('account == x and identity == y', () => true, ['account', 'identity']), false],
    [fakeRule('TWIN.kind', () => true, ['TWIN']), true],
    [fakeRule('twin_owner', () => true, ['twin_owner']), true],
    [fakeRule('twin_status', () => true, ['account', 'twin_status']), true],
  ])('%#', (rule, expected) => {
    expect(ruleNeedsTwinFacts(rule)).toBe(expected);
  });
});

describe('ruleBudgetSpent', () => {
  const caller = makeCaller();

  it('is false for a fresh request budget and without one', () => {
    expect(ruleBudgetSpent(withRequestRuleBudget(caller))).toBe(false);
    expect(ruleBudgetSpent(caller)).toBe(false);
  });

  it('is true once a rule was false only because the request could not afford to compile it (issue #20)', () => {
    const budgeted = withRequestRuleBudget(caller);
    const costly = `[${Array.from({ length: 60 }, (_, k) => `user=~"(?:${k}x){500}"`).join(',')}]`;
    const rule = new RuleCompiler({ schedule: () => undefined }).stored(costly);
    expect(evaluateRule(rule, { user: '' }, budgeted.ruleBudget)).toBe(false);
    expect(ruleBudgetSpent(budgeted)).toBe(true);
  });
});
