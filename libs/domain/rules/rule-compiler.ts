/**
 * The entry point: rule text → CompiledRule. Everything that can be known about a rule without its variables is
 * checked here, at write time (docs/rules.md "Limits" and "Errors"), so that evaluation only ever fails closed.
 */
import type { RuleNode } from './rule-ast.js';
import {
  buildEvaluator,
  buildEvaluatorWith,
  DEFAULT_STEP_BUDGET,
  newEvalState,
  type EvalState,
  type Evaluator,
} from './rule-evaluator.js';
import { MAX_RULE_DEPTH, parseRule } from './rule-parser.js';
import { checkPattern, RegexSyntaxError, REGEX_STEP_BUDGET, type RulePattern } from './rule-regex.js';
import {
  InvalidRuleError,
  type RuleBudget,
  type RuleEvaluationNote,
  type CompiledRule,
  type RuleVariableName,
  type RuleVariables,
} from './rule-types.js';
import { RuleEvaluationError, truthy } from './rule-values.js';

/**
 * docs/rules.md "Limits": a rule is at most 2,048 characters (counted in UTF-16 units, as JSON schema validators do).
 */
export const MAX_RULE_LENGTH = 2048;

/** A Record over the union, so adding a variable to RuleVariables without listing it here fails to compile. */
const VARIABLES: Readonly<Record<RuleVariableName, true>> = {
  account: true,
  user: true,
  role: true,
  now: true,
  twin: true,
  identity: true,
  twin_owner: true,
  twin_status: true,
  TWIN: true,
  USER: true,
  DICT: true,
};

export const RULE_VARIABLE_NAMES: readonly RuleVariableName[] = Object.keys(VARIABLES) as RuleVariableName[];

function isRuleVariable(name: string): name is RuleVariableName {
  return Object.hasOwn(VARIABLES, name);
}

export interface CompileOptions {
  /** Evaluation steps before a rule gives up (⇒ false). Default DEFAULT_STEP_BUDGET. */
  readonly stepBudget?: number;
}

/** Why a rule came out the way it did; for diagnostics and tests, not for the hot path. */
export type RuleOutcome =
  | { readonly ok: true; readonly result: boolean; readonly value: unknown; readonly steps: number }
  | { readonly ok: false; readonly result: false; readonly error: string; readonly steps: number };

/** What compileRule returns: the CompiledRule contract plus its syntax tree and a diagnostic evaluation. */
export interface RuleProgram extends CompiledRule {
  readonly ast: RuleNode;
  explain(vars: RuleVariables): RuleOutcome;
}

class Rule implements RuleProgram {
  private readonly state: EvalState;
  private busy = false;

  constructor(
    readonly source: string,
    readonly ast: RuleNode,
    readonly variables: ReadonlySet<RuleVariableName>,
    private readonly root: Evaluator,
    private readonly stepBudget: number,
  ) {
    this.state = newEvalState(stepBudget);
  }

  evaluate(vars: RuleVariables, budget?: RuleBudget, note?: RuleEvaluationNote): boolean {
    if (budget === undefined) {
      try {
        return truthy(this.run(vars, this.stepBudget));
      } catch (error) {
        // Any failure — type error, budget, even a stack overflow — means "not visible" (docs/visibility.md).
        if (note !== undefined) note.error = messageOf(error);
        return false;
      }
    }
    // The request's budget is spent: fail closed without running anything.
    if (budget.remaining <= 0) {
      if (note !== undefined) note.budget = 'spent';
      return false;
    }
    const spent = { steps: 0 };
    try {
      return truthy(this.run(vars, Math.min(this.stepBudget, budget.remaining), spent));
    } catch (error) {
      if (note !== undefined) {
        note.error = messageOf(error);
        // Cut short by what the request had left rather than by the rule's own ceiling.
        if (spent.steps >= budget.remaining && budget.remaining < this.stepBudget) note.budget = 'spent';
      }
      return false;
    } finally {
      budget.remaining -= spent.steps;
    }
  }

  explain(vars: RuleVariables): RuleOutcome {
    const state = newEvalState(this.stepBudget);
    state.vars = vars;
    try {
      const value = this.root(state);
      return { ok: true, result: truthy(value), value, steps: state.steps };
    } catch (error) {
      return { ok: false, result: false, error: messageOf(error), steps: state.steps };
    }
  }

  private run(vars: RuleVariables, limit: number, spent?: { steps: number }): unknown {
    // The shared state avoids an allocation per evaluation; a fresh one covers the (theoretical) reentrant call.
    const state = this.busy ? newEvalState(limit) : this.state;
    const owner = !this.busy;
    this.busy = true;
    state.vars = vars;
    state.steps = 0;
    state.limit = limit;
    state.regexSteps = REGEX_STEP_BUDGET;
    try {
      return this.root(state);
    } finally {
      if (spent !== undefined) spent.steps = state.steps;
      state.vars = EMPTY_VARIABLES;
      if (owner) this.busy = false;
    }
  }
}

const EMPTY_VARIABLES: RuleVariables = Object.freeze({});

function messageOf(error: unknown): string {
  return error instanceof RuleEvaluationError || error instanceof Error ? error.message : String(error);
}

/**
 * Compile units (deferred-rule.ts) per character of rule text for checking it: parsing the text and its regex
 * literals. Measured against building (2 shared cores): checking a 2,048-character rule full of regex literals
 * ≈ 0.15–0.25 ms, building its programs ≈ 10–15 ns per instruction, so a character checked costs about as much as
 * 8 instructions built.
 */
export const CHECK_UNITS_PER_CHAR = 8;

/**
 * A rule text that passed every write-time check, not yet built: its syntax tree, the variables it reads, its
 * distinct regex literals with the size of their programs, and what building it costs in compile units.
 */
export interface CheckedRule {
  readonly source: string;
  readonly ast: RuleNode;
  readonly variables: ReadonlySet<RuleVariableName>;
  /** Distinct regex literal → instructions of its program. */
  readonly patterns: ReadonlyMap<string, number>;
  /** Building: one unit per NFA instruction of its regex literals, one per character for the evaluator closures. */
  readonly units: number;
}

/** Compile units of checking `text` (checkRule). */
export function checkUnits(text: string): number {
  return text.length * CHECK_UNITS_PER_CHAR;
}

/**
 * The write-time checks of compileRule without building anything: throws the same InvalidRuleError. Costs a parse
 * of the text and of its regex literals (no NFA program is built), so a write that stores many rules stays cheap.
 */
export function checkRule(text: string): CheckedRule {
  if (text.length > MAX_RULE_LENGTH) {
    throw new InvalidRuleError(`rule longer than ${MAX_RULE_LENGTH} characters`, MAX_RULE_LENGTH);
  }
  const ast = parseRule(text, MAX_RULE_DEPTH);
  const variables = new Set<RuleVariableName>();
  const patterns = new Map<string, number>();
  check(ast, variables, patterns);
  let units = text.length;
  for (const size of patterns.values()) units += size;
  return { source: text, ast, variables, patterns, units };
}

/**
 * Builds a checked rule: its evaluator closures and the NFA program of each regex literal (compiled once each), or
 * of those not in `patterns`, compiled beforehand.
 */
export function buildRule(
  checked: CheckedRule,
  options: CompileOptions = {},
  patterns?: ReadonlyMap<string, RulePattern>,
): RuleProgram {
  return new Rule(
    checked.source,
    checked.ast,
    checked.variables,
    patterns === undefined ? buildEvaluator(checked.ast) : buildEvaluatorWith(checked.ast, patterns),
    options.stepBudget ?? DEFAULT_STEP_BUDGET,
  );
}

/**
 * Compiles rule text, throwing InvalidRuleError (with a 0-based position) on syntax errors, unknown operators or
 * variables, rules over 2,048 characters or 32 levels, and invalid regex literals.
 */
export function compileRule(text: string, options: CompileOptions = {}): RuleProgram {
  return buildRule(checkRule(text), options);
}

/**
 * Write-time checks the grammar cannot express; collects the variables the rule reads and the program size of
 * each distinct regex literal on the way.
 */
function check(node: RuleNode, variables: Set<RuleVariableName>, patterns: Map<string, number>): void {
  switch (node.kind) {
    case 'literal':
      return;
    case 'variable':
      if (!isRuleVariable(node.name)) throw new InvalidRuleError(`unknown variable '${node.name}'`, node.pos);
      variables.add(node.name);
      return;
    case 'array':
      for (const item of node.items) check(item, variables, patterns);
      return;
    case 'mapping':
      for (const { key, value } of node.entries) {
        if (key.kind === 'literal' && typeof key.value !== 'string') {
          throw new InvalidRuleError('mapping keys must be strings', key.pos);
        }
        check(key, variables, patterns);
        check(value, variables, patterns);
      }
      return;
    case 'attribute':
      check(node.object, variables, patterns);
      return;
    case 'index':
      check(node.object, variables, patterns);
      check(node.index, variables, patterns);
      return;
    case 'unary':
      check(node.operand, variables, patterns);
      return;
    case 'ternary':
      check(node.condition, variables, patterns);
      check(node.then, variables, patterns);
      check(node.otherwise, variables, patterns);
      return;
    case 'binary':
      check(node.left, variables, patterns);
      check(node.right, variables, patterns);
      if (node.op === '=~' || node.op === '!~' || node.op === '=~~' || node.op === '!~~')
        checkRegexLiteral(node.right, patterns);
      return;
  }
}

function checkRegexLiteral(pattern: RuleNode, patterns: Map<string, number>): void {
  if (pattern.kind !== 'literal') return;
  if (typeof pattern.value !== 'string') {
    throw new InvalidRuleError('a regular expression must be a string', pattern.pos);
  }
  if (patterns.has(pattern.value)) return;
  try {
    patterns.set(pattern.value, checkPattern(pattern.value));
  } catch (error) {
    if (!(error instanceof RegexSyntaxError)) throw error;
    throw new InvalidRuleError(
      `invalid regular expression: ${error.message} (at pattern offset ${error.position})`,
      pattern.pos,
    );
  }
}
