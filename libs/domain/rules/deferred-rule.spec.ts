/**
 * Issue #20: compiling stored rules is charged to the request like evaluating them. A request compiles a rule
 * only while its compile units cover it; a rule it cannot afford is false for it (fail closed, never wider) and is
 * compiled off the request in bounded slices, so the next request finds it compiled.
 */
import fc from 'fast-check';
import { mentionedVariables } from './deferred-rule.js';
import { RuleCompiler } from './rule-cache.js';
import { checkRule, checkUnits, compileRule } from './rule-compiler.js';
import { REQUEST_COMPILE_UNITS, RuleBudget, type RuleVariables } from './rule-types.js';

/** A compiler whose background slices run only when the test says so. */
function manualCompiler(sliceUnits?: number): { compiler: RuleCompiler; runSlices: () => number } {
  const slices: (() => void)[] = [];
  const compiler = new RuleCompiler({ schedule: (slice) => slices.push(slice), sliceUnits });
  return {
    compiler,
    runSlices: () => {
      let ran = 0;
      while (slices.length > 0) {
        slices.shift()?.();
        ran++;
      }
      return ran;
    },
  };
}

/** A costly rule (one large regex program per literal), distinct per `tag`, true when DICT.ok is `tag`. */
function costly(tag: string, literals = 10): string {
  const regexes = Array.from({ length: literals }, (_, k) => `DICT.s =~ "(?:${tag}${k}){300}"`);
  return `DICT.ok == "${tag}" or ${regexes.join(' or ')}`;
}

const hit = (tag: string): RuleVariables => ({ DICT: { ok: tag, s: '' } });

describe('a stored rule read before it is compiled', () => {
  it('compiles on first evaluation when the request can afford it, charging what it costs', () => {
    const { compiler } = manualCompiler();
    const text = costly('a');
    const rule = compiler.stored(text);
    const budget = new RuleBudget();
    expect(rule.evaluate(hit('a'), budget)).toBe(true);
    expect(REQUEST_COMPILE_UNITS - budget.compileUnits).toBe(checkUnits(text) + checkRule(text).units);
    expect(budget.deferred).toBe(false);
    // Compiled once: the next request pays nothing, and reading the text again hands out the compiled rule.
    const again = new RuleBudget();
    expect(compiler.stored(text).evaluate(hit('a'), again)).toBe(true);
    expect(again.compileUnits).toBe(REQUEST_COMPILE_UNITS);
    expect(compiler.stored(text)).toBe(compiler.compile(text));
  });

  it('is false for a request that cannot afford it, then compiled off the request for the next one', () => {
    const { compiler, runSlices } = manualCompiler();
    const text = costly('b');
    const units = checkUnits(text) + checkRule(text).units;
    const rule = compiler.stored(text);
    const poor = new RuleBudget(undefined, units - 1);
    expect(rule.evaluate(hit('b'), poor)).toBe(false);
    expect(poor.deferred).toBe(true);
    // It spent what checking the text cost, never more than it had.
    expect(poor.compileUnits).toBeGreaterThanOrEqual(0);
    expect(compiler.pending).toBe(1);
    expect(runSlices()).toBe(1);
    expect(compiler.pending).toBe(0);
    const next = new RuleBudget(undefined, 0);
    expect(rule.evaluate(hit('b'), next)).toBe(true);
    expect(next.deferred).toBe(false);
  });

  it('charges the units of a request across its rules: the ones past its budget wait', () => {
    const { compiler, runSlices } = manualCompiler();
    const texts = Array.from({ length: 20 }, (_, i) => costly(`t${i}`));
    const each = checkUnits(texts[0]) + checkRule(texts[0]).units;
    const budget = new RuleBudget(undefined, 5 * each + 10);
    const results = texts.map((t, i) => compiler.stored(t).evaluate(hit(`t${i}`), budget));
    expect(results.filter(Boolean)).toHaveLength(5);
    expect(results.slice(0, 5)).toEqual([true, true, true, true, true]);
    expect(budget.deferred).toBe(true);
    expect(compiler.pending).toBe(15);
    runSlices();
    const later = new RuleBudget(undefined, 0);
    expect(texts.every((t, i) => compiler.stored(t).evaluate(hit(`t${i}`), later))).toBe(true);
  });

  it('compiles in slices of bounded size, yielding between them', () => {
    const slices: (() => void)[] = [];
    const texts = Array.from({ length: 3 }, (_, i) => costly(`s${i}`));
    const total = texts.reduce((sum, t) => sum + checkUnits(t) + checkRule(t).units, 0);
    const sliceUnits = 5_000;
    const compiler = new RuleCompiler({ schedule: (s) => slices.push(s), sliceUnits });
    const rules = texts.map((t) => compiler.stored(t));
    for (const rule of rules) rule.evaluate({}, new RuleBudget(undefined, 0));
    let ran = 0;
    while (slices.length > 0) {
      slices.shift()?.();
      ran++;
    }
    // No slice does more than its units and one piece (a check: the largest piece here).
    const piece = Math.max(...texts.map(checkUnits));
    expect(ran).toBeGreaterThanOrEqual(Math.ceil(total / (sliceUnits + piece)));
    expect(rules.every((r, i) => r.evaluate(hit(`s${i}`), new RuleBudget(undefined, 0)))).toBe(true);
    expect(compiler.pending).toBe(0);
  });

  it('spends nothing for a request whose evaluation steps are already spent', () => {
    const { compiler } = manualCompiler();
    const budget = new RuleBudget(0);
    expect(compiler.stored(costly('c')).evaluate(hit('c'), budget)).toBe(false);
    expect(budget.compileUnits).toBe(REQUEST_COMPILE_UNITS);
    expect(compiler.pending).toBe(0);
  });

  it('compiles whatever it costs when evaluated without a request budget (one rule, its own ceiling)', () => {
    const { compiler } = manualCompiler();
    expect(compiler.stored(costly('d')).evaluate(hit('d'))).toBe(true);
    expect(compiler.pending).toBe(0);
  });

  it('leaves the costliest legal rule to the background: false for the first request, ready for the next', () => {
    // Distinct regex literals that each build the largest program the matcher allows (2,047 instructions and the
    // final match), packed as tightly as the grammar lets (an array of matches) into 2,048 characters.
    const items: string[] = [];
    for (let k = 0; ; k++) {
      const next = `user=~"(?:${k.toString(36).padStart(3, '0')}){682}"`;
      if (`[${[...items, next].join(',')}]`.length > 2048) break;
      items.push(next);
    }
    const text = `[${items.join(',')}]`;
    expect(checkRule(text).units).toBeGreaterThan(85 * 2048);
    const { compiler, runSlices } = manualCompiler();
    const first = new RuleBudget();
    expect(compiler.stored(text).evaluate({ user: '' }, first)).toBe(false);
    expect(first.deferred).toBe(true);
    expect(first.compileUnits).toBeGreaterThanOrEqual(0);
    runSlices();
    const next = new RuleBudget();
    // A list of a hundred `false` is a non-empty list: truthy.
    expect(compiler.stored(text).evaluate({ user: '' }, next)).toBe(true);
    expect(next.compileUnits).toBe(REQUEST_COMPILE_UNITS);
  });

  it('reports the variables it may read before it is compiled (a superset), exactly once compiled', () => {
    const { compiler } = manualCompiler();
    const text = 'TWIN.owner == "x" and DICT.account == user';
    const rule = compiler.stored(text);
    expect([...rule.variables].sort()).toEqual(['TWIN', 'account', 'user', 'DICT'].sort());
    rule.evaluate({});
    expect([...rule.variables].sort()).toEqual(['DICT', 'TWIN', 'user']);
    expect(mentionedVariables('"now" + identity')).toEqual(new Set(['now', 'identity']));
  });

  it('a stored text that no longer compiles is false for everyone and never queued again', () => {
    const { compiler, runSlices } = manualCompiler();
    const rule = compiler.stored('( or true');
    expect(rule.evaluate({}, new RuleBudget())).toBe(false);
    expect(rule.evaluate({})).toBe(false);
    expect(compiler.stored('( or true').evaluate({}, new RuleBudget(undefined, 0))).toBe(false);
    runSlices();
    expect(compiler.pending).toBe(0);
    expect(() => compiler.compile('( or true')).toThrow();
  });
});

/**
 * The budget logic against a plain model: a list of rules with known costs, a set of compiled ones, a number per
 * request. Whatever the order of requests, budgets and background slices:
 * - an evaluation is true only if the compiled rule is true (fail closed, never wider);
 * - it equals the compiled rule's answer when the rule was compiled or the request could afford it;
 * - a request never spends more compile units than it had.
 */
describe('compile budget against a plain model', () => {
  const TAGS = ['p', 'q', 'r', 's'];
  const rules = TAGS.map((tag, i) => costly(tag, 2 + 3 * i));
  const truth = rules.map((text) => compileRule(text));
  const costs = rules.map((text) => checkRule(text));

  type Step =
    | { kind: 'request'; budget: number; rules: number[]; tag: string }
    | { kind: 'slice' }
    | { kind: 'write'; rule: number };

  const step: fc.Arbitrary<Step> = fc.oneof(
    fc.record({
      kind: fc.constant('request' as const),
      budget: fc.integer({ min: 0, max: (checkUnits(rules[3]) + costs[3].units) * 2 }),
      rules: fc.array(fc.integer({ min: 0, max: rules.length - 1 }), { minLength: 1, maxLength: 6 }),
      tag: fc.constantFrom(...TAGS, 'none'),
    }),
    fc.constant({ kind: 'slice' as const }),
    fc.record({ kind: fc.constant('write' as const), rule: fc.integer({ min: 0, max: rules.length - 1 }) }),
  );

  it('never shows more than the rule would, and compiles what was affordable or waited', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 30 }), (steps) => {
        const { compiler, runSlices } = manualCompiler(costs[0].units);
        // The model: which rules are compiled (or checked), which wait.
        const compiled = new Set<number>();
        const checked = new Set<number>();
        const waiting = new Set<number>();
        for (const s of steps) {
          if (s.kind === 'slice') {
            runSlices();
            for (const r of waiting) compiled.add(r);
            waiting.clear();
            continue;
          }
          if (s.kind === 'write') {
            compiler.compile(rules[s.rule]);
            compiled.add(s.rule);
            waiting.delete(s.rule);
            continue;
          }
          const budget = new RuleBudget(undefined, s.budget);
          let left = s.budget;
          let deferred = false;
          for (const r of s.rules) {
            const vars = hit(s.tag);
            const got = compiler.stored(rules[r]).evaluate(vars, budget);
            const want = truth[r].evaluate(vars);
            // Fail closed, never wider.
            if (got) expect(want).toBe(true);
            let affordable = compiled.has(r);
            if (!affordable) {
              const checkCost = checked.has(r) ? 0 : checkUnits(rules[r]);
              if (left >= checkCost) {
                left -= checkCost;
                checked.add(r);
                const buildCost = costs[r].units;
                if (left >= buildCost) {
                  left -= buildCost;
                  affordable = true;
                  compiled.add(r);
                  waiting.delete(r);
                }
              }
              if (!affordable) {
                deferred = true;
                waiting.add(r);
              }
            }
            expect(got).toBe(affordable ? want : false);
          }
          expect(budget.compileUnits).toBe(left);
          expect(budget.compileUnits).toBeGreaterThanOrEqual(0);
          expect(budget.deferred).toBe(deferred);
        }
        expect(compiler.pending).toBe(waiting.size);
      }),
      { numRuns: 200 },
    );
  });
});
