/**
 * A stored rule read before it was compiled, compiled only when evaluated and only as far as the evaluating
 * request can afford (issue #20, docs/rules.md "Compiling").
 *
 * Why: rules arrive as text with the rows that carry them, and a name may carry hundreds of rows of another
 * account, each with its own rule. Compiling them all where they are loaded or first evaluated made whoever came
 * first — and every request queued behind it on the same process — wait for all of them. So a request spends at
 * most its compile units (RuleBudget.compileUnits); a rule it cannot afford is false for that request — exactly what
 * a rule out of evaluation steps is, so nothing is ever shown that the rule would hide — and is compiled off the
 * request, in slices, for the next one. Why not compile at write time into a form that loads cheaply: the costly
 * part is the regex programs, whose compact stored form would be as large as the programs themselves; building
 * them is what costs, storing them would not remove it.
 */
import {
  buildRule,
  checkRule,
  checkUnits,
  RULE_VARIABLE_NAMES,
  type CheckedRule,
  type CompileOptions,
  type RuleProgram,
} from './rule-compiler.js';
import { compilePattern, RegexSyntaxError, type RulePattern } from './rule-regex.js';
import {
  InvalidRuleError,
  type CompiledRule,
  type RuleBudget,
  type RuleEvaluationNote,
  type RuleVariableName,
  type RuleVariables,
} from './rule-types.js';

/** What a deferred rule needs from the compiler that handed it out. */
export interface DeferredRuleHost {
  /** Compile `rule` off the request, soon (it was evaluated and could not be afforded). */
  later(rule: DeferredRule): void;
  /** `rule` is compiled: `program`, or null when its text no longer compiles (it is then false for everyone). */
  built(rule: DeferredRule, program: RuleProgram | null): void;
}

/** True for nobody: a stored rule that no longer compiles (an older grammar) fails closed. */
const DENY_ALL: CompiledRule = Object.freeze({
  source: 'false',
  variables: new Set<RuleVariableName>(),
  evaluate: (_vars: RuleVariables, _budget?: RuleBudget, note?: RuleEvaluationNote) => {
    if (note !== undefined) note.error = 'the stored rule no longer compiles: true for nobody';
    return false;
  },
});

const IDENTIFIER = /[A-Za-z_][A-Za-z0-9_]*/g;
const VARIABLE_NAMES: ReadonlySet<string> = new Set(RULE_VARIABLE_NAMES);

/**
 * Every variable name that appears in the text as a word: a superset of the variables the rule reads (an attribute
 * or a string may spell one too), found without parsing. Callers use `variables` to fetch what a rule may read;
 * fetching too much is safe, too little is not.
 */
export function mentionedVariables(text: string): ReadonlySet<RuleVariableName> {
  const found = new Set<RuleVariableName>();
  for (const [word] of text.matchAll(IDENTIFIER)) {
    if (VARIABLE_NAMES.has(word)) found.add(word as RuleVariableName);
  }
  return found;
}

export class DeferredRule implements CompiledRule {
  private checked: CheckedRule | undefined;
  private program: CompiledRule | undefined;
  /** Regex literals compiled so far (a background slice may stop between two), and those still to compile. */
  private readonly patterns = new Map<string, RulePattern>();
  private todo: [source: string, size: number][] = [];
  private readonly mentioned: ReadonlySet<RuleVariableName>;

  constructor(
    readonly source: string,
    private readonly host: DeferredRuleHost,
    private readonly options: CompileOptions = {},
  ) {
    this.mentioned = mentionedVariables(source);
  }

  get variables(): ReadonlySet<RuleVariableName> {
    return this.program?.variables ?? this.mentioned;
  }

  /** Whether the rule is compiled (or known not to compile): evaluating it no longer costs compile units. */
  get compiled(): boolean {
    return this.program !== undefined;
  }

  evaluate(vars: RuleVariables, budget?: RuleBudget, note?: RuleEvaluationNote): boolean {
    let program = this.program;
    if (program === undefined) {
      // A request whose steps are spent gets false from any rule: no point compiling for it.
      if (budget !== undefined && budget.remaining <= 0) {
        if (note !== undefined) note.budget = 'spent';
        return false;
      }
      program = budget === undefined ? this.programNow() : this.programWithin(budget);
      if (program === undefined) {
        if (note !== undefined) note.budget = 'deferred';
        return false;
      }
    }
    return program.evaluate(vars, budget, note);
  }

  /**
   * Background work: about `units` of it and at least one piece — the check, some regex literals (one program is
   * at most 2,048 units), or the final build — then returns the units spent. Called again until `compiled`.
   */
  step(units: number): number {
    if (this.program !== undefined) return 0;
    if (this.checked === undefined) {
      this.check();
      return checkUnits(this.source);
    }
    let spent = 0;
    while (this.todo.length > 0 && spent < units) {
      const [pattern, size] = this.todo[this.todo.length - 1];
      this.todo.pop();
      try {
        this.patterns.set(pattern, compilePattern(pattern));
      } catch (error) {
        if (!(error instanceof RegexSyntaxError)) throw error;
        this.deny();
        return spent + size;
      }
      spent += size;
    }
    if (this.todo.length === 0 && spent < units) {
      spent += this.source.length;
      this.finish();
    }
    return spent;
  }

  /** All that is left, whatever it costs (one rule: at most about REQUEST_COMPILE_UNITS); returns the units spent. */
  complete(): number {
    let spent = 0;
    while (this.program === undefined) spent += this.step(Infinity);
    return spent;
  }

  /** Hands in the program compiled for the same text elsewhere (RuleCompiler.compile). */
  adopt(program: RuleProgram): void {
    if (this.program !== undefined) return;
    this.program = program;
    this.release();
  }

  private programNow(): CompiledRule | undefined {
    this.complete();
    return this.program;
  }

  /** Checking and building are each charged only if the budget still covers them; what the background did is not. */
  private programWithin(budget: RuleBudget): CompiledRule | undefined {
    if (this.checked === undefined) {
      const cost = checkUnits(this.source);
      if (budget.compileUnits < cost) return this.defer(budget);
      budget.compileUnits -= cost;
      if (!this.check()) return this.program;
    }
    const rest = this.buildUnits();
    if (budget.compileUnits < rest) return this.defer(budget);
    budget.compileUnits -= rest;
    this.complete();
    return this.program;
  }

  private defer(budget: RuleBudget): undefined {
    budget.deferred = true;
    this.host.later(this);
    return undefined;
  }

  /** Parses and checks the text; false (and false for everyone from now on) when it no longer compiles. */
  private check(): boolean {
    try {
      this.checked = checkRule(this.source);
      this.todo = Array.from(this.checked.patterns);
      return true;
    } catch (error) {
      if (!(error instanceof InvalidRuleError)) throw error;
      this.deny();
      return false;
    }
  }

  /** What building still costs: the regex literals not yet compiled, and the evaluator. */
  private buildUnits(): number {
    let units = this.source.length;
    for (const [, size] of this.todo) units += size;
    return units;
  }

  private finish(): void {
    const checked = this.checked;
    if (checked === undefined) return;
    const program = buildRule(checked, this.options, this.patterns);
    this.program = program;
    this.release();
    this.host.built(this, program);
  }

  private deny(): void {
    this.program = DENY_ALL;
    this.release();
    this.host.built(this, null);
  }

  private release(): void {
    this.checked = undefined;
    this.todo = [];
    this.patterns.clear();
  }
}
