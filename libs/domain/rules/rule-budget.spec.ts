/**
 * Issue #10 point 1: rules cannot be a denial of service. Work is charged by what it does (string length, items,
 * regex steps), so an evaluation stops at its step ceiling whatever the rule text and the values hold, and one
 * request's evaluations share a ceiling. The last test measures what a ceiling is worth in time (the figures in
 * rule-evaluator.ts and the README come from it).
 */
import fc from 'fast-check';
import { compileRule } from './rule-compiler.js';
import { DEFAULT_STEP_BUDGET } from './rule-evaluator.js';
import { RuleBudget, type RuleVariables } from './rule-types.js';
import { CHARS_PER_STEP } from './rule-values.js';

/** A description as large as a 64 KiB body allows, with one astral character (the code-point path of `[i]`). */
const BIG = `😀${'ab'.repeat(31_500)}`;
const vars = (): RuleVariables => ({
  TWIN: {
    d: BIG,
    e: BIG.slice(0, -1) + BIG.slice(-1), // equal, not the same string
    s: 'ab'.repeat(2048),
    list: Array.from({ length: 1000 }, (_, i) => `${BIG.slice(0, 60)}${i}`),
  },
});

/** Repeats `term` joined by `or` up to a 1.7 KB rule, like the report's. */
function repeated(term: string, length = 1700): string {
  const terms: string[] = [];
  while ((terms.length + 1) * (term.length + 4) < length) terms.push(term);
  return terms.join(' or ');
}

/** Each is a legal rule under 2,048 characters that, one step per node, did milliseconds of work per evaluation. */
const HOSTILE: Record<string, string> = {
  comparison: repeated('TWIN.d < TWIN.e'),
  equality: repeated('TWIN.d != TWIN.e'),
  concatenation: repeated('(TWIN.d + TWIN.d) in (TWIN.d + TWIN.e)'),
  membership: repeated('"zz" in TWIN.d'),
  'item access': repeated('TWIN.d[-1] == "x"'),
  'list membership': repeated('TWIN.d in TWIN.list'),
  regex: repeated('TWIN.s =~ "(a|b)*c"'),
  'mapping keys': repeated('{TWIN.d: 1}[TWIN.e] == 2'),
};

describe('rule work is charged by size', () => {
  it.each(Object.entries(HOSTILE))(
    '%s over a 63 KB description exceeds the step ceiling and fails closed',
    (_, text) => {
      expect(text.length).toBeLessThanOrEqual(2048);
      const rule = compileRule(text);
      const outcome = rule.explain(vars());
      expect(outcome).toMatchObject({ ok: false, result: false });
      expect(outcome.ok === false && outcome.error).toMatch(/budget|too expensive/);
      // Work is charged before it is done, so a charge far beyond the ceiling fails without doing that work.
    },
  );

  it('charges string work by length: comparing two 63 KB strings costs what scanning them does', () => {
    const outcome = compileRule('TWIN.d == TWIN.e').explain(vars());
    expect(outcome).toMatchObject({ ok: true, result: true });
    expect(outcome.steps).toBeGreaterThanOrEqual(Math.floor(BIG.length / CHARS_PER_STEP));
    // Ordinary rules are not affected: a few steps each.
    expect(compileRule('TWIN.kind == "pallet"').explain({ TWIN: { kind: 'pallet' } }).steps).toBeLessThan(10);
  });

  it('property: within the ceiling, the result is that of an unlimited evaluation (semantics unchanged)', () => {
    const ops = ['==', '!=', '<', '>=', 'in', 'not in', '+', '=~~'];
    const operand = fc.constantFrom('TWIN.a', 'TWIN.b', 'TWIN.c', '"ab"', '(TWIN.a + TWIN.b)', 'TWIN.l');
    const ruleArb = fc
      .array(fc.tuple(operand, fc.constantFrom(...ops), operand), { minLength: 1, maxLength: 8 })
      .map((terms) => terms.map(([a, op, b]) => `(${a} ${op} ${b})`).join(' or '));
    const text = fc.string({ unit: fc.constantFrom('a', 'b', '😀', 'c'), maxLength: 3000 });
    fc.assert(
      fc.property(ruleArb, text, text, fc.array(text, { maxLength: 20 }), (source, a, b, l) => {
        const values: RuleVariables = { TWIN: { a, b, c: a + b, l } };
        const limited = compileRule(source).explain(values);
        const unlimited = compileRule(source, { stepBudget: Number.MAX_SAFE_INTEGER }).explain(values);
        // The ceiling holds (the last charge may overshoot by one operation's work)…
        expect(limited.steps).toBeLessThanOrEqual(DEFAULT_STEP_BUDGET + 64_000);
        // …and where it was not reached, nothing changed.
        if (limited.ok || !/budget/.test(limited.error)) {
          expect(limited.result).toBe(unlimited.result);
          expect(limited.steps).toBe(unlimited.steps);
        } else {
          expect(unlimited.steps).toBeGreaterThan(DEFAULT_STEP_BUDGET);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('the per-request budget', () => {
  it('every evaluation draws on it; once spent, every rule is false, even `true`', () => {
    const budget = new RuleBudget(25_000);
    const costly = compileRule(HOSTILE.comparison);
    const always = compileRule('true');
    expect(always.evaluate({}, budget)).toBe(true);
    let evaluations = 0;
    while (budget.remaining > 0 && evaluations < 100) {
      expect(costly.evaluate(vars(), budget)).toBe(false);
      evaluations++;
    }
    expect(evaluations).toBeLessThanOrEqual(3);
    expect(always.evaluate({}, budget)).toBe(false);
    // Without a request budget a rule has only its own ceiling.
    expect(always.evaluate({})).toBe(true);
  });

  it('an evaluation gets no more than what is left of the request budget', () => {
    const budget = new RuleBudget(100);
    expect(compileRule('TWIN.d == TWIN.e').evaluate(vars(), budget)).toBe(false);
    expect(budget.remaining).toBeLessThanOrEqual(0);
  });
});

describe('calibration (prints the figures; bounds are generous)', () => {
  it('a full-ceiling evaluation costs at most about a millisecond, whatever it spends it on', () => {
    const figures: string[] = [];
    let worst = 0;
    const plain = compileRule(repeated('TWIN.k == 1', 2040), { stepBudget: 1e12 });
    const small = { TWIN: { k: 1 } };
    for (const [name, text] of [['plain nodes', plain.source] as const, ...Object.entries(HOSTILE)]) {
      const rule = compileRule(text);
      const values = name === 'plain nodes' ? small : vars();
      let best = Infinity;
      let steps = 0;
      for (let i = 0; i < 30; i++) {
        const t0 = performance.now();
        const outcome = rule.explain(values);
        best = Math.min(best, performance.now() - t0);
        steps = outcome.steps;
      }
      worst = Math.max(worst, (best * 1000 * DEFAULT_STEP_BUDGET) / Math.max(steps, 1));
      figures.push(`${name}: ${(best * 1000).toFixed(1)} µs for ${steps} steps`);
    }
    console.log(
      `rule ceiling calibration (best of 30):\n  ${figures.join('\n  ')}\n  worst per full ceiling: ${worst.toFixed(0)} µs`,
    );
    expect(worst).toBeLessThan(20_000);
  });
});
