import { RuleCompiler } from './rule-cache.js';
import { compileRule } from './rule-compiler.js';
import { RuleBudget, type RuleEvaluationNote } from './rule-types.js';

/** The note an evaluation fills in when asked (POST /resolve/explain): why a rule came out false. */
describe('the evaluation note', () => {
  const evaluate = (text: string, vars: object, budget?: RuleBudget) => {
    const note: RuleEvaluationNote = {};
    const result = compileRule(text).evaluate(vars, budget, note);
    return { result, note };
  };

  it('stays empty when the rule simply evaluates', () => {
    expect(evaluate("DICT.site == 'WAW'", { DICT: {} })).toEqual({ result: false, note: {} });
    expect(evaluate("DICT.site == 'WAW'", { DICT: { site: 'WAW' } })).toEqual({ result: true, note: {} });
  });

  it("holds the evaluator's message when the rule fails (false)", () => {
    expect(evaluate('DICT.n > 3', { DICT: {} })).toEqual({
      result: false,
      note: { error: expect.stringMatching(/cannot order/) },
    });
  });

  it("says when the request's budget was spent before or during the rule", () => {
    expect(evaluate('true', {}, new RuleBudget(0))).toEqual({ result: false, note: { budget: 'spent' } });
    const long = evaluate('[1,2,3,4,5,6,7,8,9,10] == [1,2,3,4,5,6,7,8,9,10]', {}, new RuleBudget(5));
    expect(long).toEqual({
      result: false,
      note: { budget: 'spent', error: 'step budget exceeded' },
    });
  });

  it('does not blame the request for a rule that exceeds its own ceiling', () => {
    const note: RuleEvaluationNote = {};
    const rule = compileRule('[1,2,3,4,5,6,7,8,9,10] == [1,2,3,4,5,6,7,8,9,10]', { stepBudget: 5 });
    expect(rule.evaluate({}, new RuleBudget(1000), note)).toBe(false);
    expect(note).toEqual({ error: 'step budget exceeded' });
  });

  it('says when compiling a stored rule did not fit in the request', () => {
    const compiler = new RuleCompiler({ schedule: () => undefined });
    const note: RuleEvaluationNote = {};
    expect(
      compiler
        .stored("DICT.site == 'WAW'")
        .evaluate({ DICT: { site: 'WAW' } }, new RuleBudget(1000, 0), note),
    ).toBe(false);
    expect(note).toEqual({ budget: 'deferred' });
  });
});
