/**
 * The contract of the rule language (docs/rules.md) as the rest of the code sees it.
 * The implementation lives beside this file; callers only ever compile and evaluate.
 */

/** Variables a rule may read. Missing ones resolve to null. */
export interface RuleVariables {
  account?: string | null;
  user?: string | null;
  role?: string | null;
  now?: number | null;
  twin?: string | null;
  identity?: string | null;
  twin_owner?: string | null;
  twin_status?: string | null;
  TWIN?: Record<string, unknown> | null;
  USER?: Record<string, unknown> | null;
  DICT?: Record<string, unknown> | null;
}

export type RuleVariableName = keyof RuleVariables;

export interface CompiledRule {
  /** The rule text exactly as written. */
  readonly source: string;
  /** Top-level variables the rule reads; lets callers skip loading facts no rule needs (e.g. the twin). */
  readonly variables: ReadonlySet<RuleVariableName>;
  /**
   * True only when the rule evaluates to a truthy value within the step budget; any error fails closed (false).
   * With a `budget`, the steps spent are also taken from it, and an evaluation gets no more than it has left:
   * once it is spent every further evaluation is false.
   */
  evaluate(vars: RuleVariables, budget?: RuleBudget, note?: RuleEvaluationNote): boolean;
}

/**
 * Why an evaluation came out false when it did not simply evaluate to a false value: filled in by `evaluate` only
 * when the caller hands one in (POST /resolve/explain does; the resolve path never does, so it costs nothing there).
 * The same evaluation that decides also explains: there is no second run to drift from the first.
 */
export interface RuleEvaluationNote {
  /** Set when the rule failed (⇒ false): a type error, its own step budget, a rule that no longer compiles… */
  error?: string;
  /** Set when the request's rule budget was spent (before or during this rule) or could not afford compiling it. */
  budget?: 'spent' | 'deferred';
}

/**
 * The per-request ceiling: 50 full per-rule budgets, about 16 ms of evaluation on the shared 2-core machine
 * (rule-evaluator.ts has the measurement), while a batch of 1,000 names with ordinary rules (tens of steps each)
 * needs a fraction of it.
 */
export const REQUEST_STEP_BUDGET = 500_000;

/** Thrown at write time: syntax errors, unknown variables/operators, limits, bad regex. */
export class InvalidRuleError extends Error {
  constructor(
    message: string,
    /** 0-based character offset in the rule text where the problem was found. */
    readonly position: number,
  ) {
    super(message);
    this.name = 'InvalidRuleError';
  }
}

/**
 * Compile units that one request may spend compiling rules it finds uncompiled (issue #20; rule-compiler.ts
 * `checkRule` says what a unit is: about 10–15 ns of compiling on the shared 2-core machine, so ≈ 0.5–0.8 ms).
 * Ordinary rules cost hundreds to a few thousand units and compile within the request that first needs them. The
 * costliest legal rules (≈ 220,000 units: 2,048 characters of distinct regex literals that each build the largest
 * program) never compile within a request: the first one to meet such a rule gets false for it, and the background
 * slices (rule-cache.ts) have it ready a few milliseconds later. Were one such rule allowed per request, a request
 * would compile for ≈ 3 ms — and a name carrying 200 of them keeps a stream of such requests coming.
 */
export const REQUEST_COMPILE_UNITS = 50_000;

/**
 * Steps that all the rule evaluations of one request may still spend, so that no request — a batch resolve over
 * many rows with costly rules, say — blocks the process for longer than the figure below, whatever the rules.
 * Likewise the compile units it may spend compiling rules (issue #20). Mutable and per request: never share one
 * between requests.
 */
export class RuleBudget {
  /**
   * Set when a rule was judged false only because this request could not afford to compile it (it is compiled
   * off the request, for the next one): like a spent budget, the answer may be cut short.
   */
  deferred = false;

  constructor(
    public remaining: number = REQUEST_STEP_BUDGET,
    public compileUnits: number = REQUEST_COMPILE_UNITS,
  ) {}
}
