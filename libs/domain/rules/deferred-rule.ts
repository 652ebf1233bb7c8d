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
  RULE_VARIABLE_NAMES,
  type CheckedRule,
  type CompileOptions,
  type RuleProgram,
} from './rule-compiler.js';
import {
  InvalidRuleError,
  type CompiledRule,
  type RuleBudget,
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
  evaluate: () => false,
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

  evaluate(vars: RuleVariables, budget?: RuleBudget): boolean {
    let program = this.program;
    if (program === undefined) {
      // A request whose steps are spent gets false from any rule: no point compiling for it.
      if (budget !== undefined && budget.remaining <= 0) return false;
      program = budget === undefined ? this.programNow() : this.programWithin(budget);
      if (program === undefined) return false;
    }
    return program.evaluate(vars, budget);
  }

  /**
   * Compiles the rest of the rule whatever it costs — one rule, so at most about REQUEST_COMPILE_UNITS — and returns
   * the units that took: a background slice, or an evaluation with no request budget (its own ceiling only).
   */
  complete(): number {
    if (this.program !== undefined) return 0;
    let units = 0;
    if (this.checked === undefined) {
      units += this.source.length;
      if (!this.check()) return units;
    }
    return units + this.build();
  }

  /** Hands in the program compiled for the same text elsewhere (RuleCompiler.compile). */
  adopt(program: RuleProgram): void {
    this.program ??= program;
  }

  private programNow(): CompiledRule | undefined {
    this.complete();
    return this.program;
  }

  /** Checking costs one unit a character, building the rest: each charged only if the budget still covers it. */
  private programWithin(budget: RuleBudget): CompiledRule | undefined {
    if (this.checked === undefined) {
      if (budget.compileUnits < this.source.length) return this.defer(budget);
      budget.compileUnits -= this.source.length;
      if (!this.check()) return this.program;
    }
    const rest = this.buildUnits();
    if (budget.compileUnits < rest) return this.defer(budget);
    budget.compileUnits -= rest;
    this.build();
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
      return true;
    } catch (error) {
      if (!(error instanceof InvalidRuleError)) throw error;
      this.program = DENY_ALL;
      this.host.built(this, null);
      return false;
    }
  }

  private buildUnits(): number {
    return this.checked === undefined ? 0 : this.checked.units - this.source.length;
  }

  private build(): number {
    const checked = this.checked;
    if (checked === undefined || this.program !== undefined) return 0;
    const program = buildRule(checked, this.options);
    this.program = program;
    this.checked = undefined;
    this.host.built(this, program);
    return checked.units - checked.source.length;
  }
}
