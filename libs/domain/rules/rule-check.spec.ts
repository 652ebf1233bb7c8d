import { TwindexError } from '../errors.js';
import { assertRuleText, ruleTextProblem } from './rule-check.js';
import { RuleBudget } from './rule-types.js';
import { storedRule } from './stored-rule.js';

describe('the write-time rule check', () => {
  it('accepts a rule that compiles', () => {
    expect(ruleTextProblem('user.name == "x"')).toBeNull();
    expect(() => assertRuleText('true', 'visibility')).not.toThrow();
  });

  it('names the position of a rule that does not compile', () => {
    expect(ruleTextProblem('user.name ==')).toMatch(/\(at position \d+\)$/);
  });

  it('refuses the NUL character, which PostgreSQL text cannot hold', () => {
    expect(ruleTextProblem('"a\u0000b" == "x"')).toBe(
      'a rule cannot contain the NUL character (at position 2)',
    );
  });

  it('answers 400 invalid_rule naming the attribute', () => {
    let thrown: unknown;
    try {
      assertRuleText('(', 'rules.twin_rule');
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(TwindexError);
    expect((thrown as TwindexError).kind).toBe('bad_request');
    expect((thrown as TwindexError).subcode).toBe('invalid_rule');
    expect((thrown as TwindexError).message).toMatch(/^rules\.twin_rule: /);
  });
});

describe('the read-time compile of a stored rule', () => {
  it('fails closed: a rule that no longer compiles is true for nobody', () => {
    const rule = storedRule('( or true');
    expect(rule?.evaluate({})).toBe(false);
    expect(rule?.evaluate({}, new RuleBudget())).toBe(false);
    expect(storedRule('( or true')?.evaluate({}, new RuleBudget())).toBe(false);
    expect(storedRule(null)).toBeNull();
  });
});
