/**
 * The entry point: rule text → CompiledRule. Everything that can be known about a rule without its variables is
 * checked here, at write time (docs/rules.md "Limits" and "Errors"), so that evaluation only ever fails closed.
 */
import type { RuleNode } from './rule-ast.js';
import {
  buildEvaluator,
  DEFAULT_STEP_BUDGET,
  newEvalState,
  type EvalState,
  type Evaluator,
} from './rule-evaluator.js';
import { MAX_RULE_DEPTH, parseRule } from './rule-parser.js';
import { compilePattern, RegexSyntaxError, REGEX_STEP_BUDGET } from './rule-regex.js';
import {
  InvalidRuleError,
  type RuleBudget,
  type CompiledRule,
  type RuleVariableName,
  type RuleVariables,
} from './rule-types.js';
import { RuleEvaluationError, truthy } from './rule-values.js';

/**
 * docs/rules.md "Limits": a rule is at most 2,048 characters (counted in UTF-16 units, as JSON schema validators do).
 */
export const MAX_RULE_LENGTH = 2048;
export const DEFAULT_CACHE_SIZE = 10_000;

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

  evaluate(vars: RuleVariables, budget?: RuleBudget): boolean {
    if (budget === undefined) {
      try {
        return truthy(this.run(vars, this.stepBudget));
      } catch {
        // Any failure — type error, budget, even a stack overflow — means "not visible" (docs/visibility.md).
        return false;
      }
    }
    // The request's budget is spent: fail closed without running anything.
    if (budget.remaining <= 0) return false;
    const spent = { steps: 0 };
    try {
      return truthy(this.run(vars, Math.min(this.stepBudget, budget.remaining), spent));
    } catch {
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
      const message =
        error instanceof RuleEvaluationError || error instanceof Error ? error.message : String(error);
      return { ok: false, result: false, error: message, steps: state.steps };
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

/**
 * Compiles rule text, throwing InvalidRuleError (with a 0-based position) on syntax errors, unknown operators or
 * variables, rules over 2,048 characters or 32 levels, and invalid regex literals.
 */
export function compileRule(text: string, options: CompileOptions = {}): RuleProgram {
  if (text.length > MAX_RULE_LENGTH) {
    throw new InvalidRuleError(`rule longer than ${MAX_RULE_LENGTH} characters`, MAX_RULE_LENGTH);
  }
  const ast = parseRule(text, MAX_RULE_DEPTH);
  const variables = new Set<RuleVariableName>();
  check(ast, variables);
  return new Rule(text, ast, variables, buildEvaluator(ast), options.stepBudget ?? DEFAULT_STEP_BUDGET);
}

/** Write-time checks the grammar cannot express; collects the variables the rule reads on the way. */
function check(node: RuleNode, variables: Set<RuleVariableName>): void {
  switch (node.kind) {
    case 'literal':
      return;
    case 'variable':
      if (!isRuleVariable(node.name)) throw new InvalidRuleError(`unknown variable '${node.name}'`, node.pos);
      variables.add(node.name);
      return;
    case 'array':
      for (const item of node.items) check(item, variables);
      return;
    case 'mapping':
      for (const { key, value } of node.entries) {
        if (key.kind === 'literal' && typeof key.value !== 'string') {
          throw new InvalidRuleError('mapping keys must be strings', key.pos);
        }
        check(key, variables);
        check(value, variables);
      }
      return;
    case 'attribute':
      check(node.object, variables);
      return;
    case 'index':
      check(node.object, variables);
      check(node.index, variables);
      return;
    case 'unary':
      check(node.operand, variables);
      return;
    case 'ternary':
      check(node.condition, variables);
      check(node.then, variables);
      check(node.otherwise, variables);
      return;
    case 'binary':
      check(node.left, variables);
      check(node.right, variables);
      if (node.op === '=~' || node.op === '!~' || node.op === '=~~' || node.op === '!~~')
        checkPattern(node.right);
      return;
  }
}

function checkPattern(pattern: RuleNode): void {
  if (pattern.kind !== 'literal') return;
  if (typeof pattern.value !== 'string') {
    throw new InvalidRuleError('a regular expression must be a string', pattern.pos);
  }
  try {
    compilePattern(pattern.value);
  } catch (error) {
    if (!(error instanceof RegexSyntaxError)) throw error;
    throw new InvalidRuleError(
      `invalid regular expression: ${error.message} (at pattern offset ${error.position})`,
      pattern.pos,
    );
  }
}

export interface RuleCompilerOptions extends CompileOptions {
  /** Distinct rule texts kept compiled; the least recently used is dropped beyond this. */
  readonly maxEntries?: number;
}

/**
 * Compiles each distinct rule text once. Callers compile on every resolve (rules come from cached rows as text),
 * so a hit must be cheap: one Map lookup plus a reinsert to keep least-recently-used order. Invalid texts are not
 * cached; they are rejected at write time and so are rare at read time.
 */
export class RuleCompiler {
  private readonly cache = new Map<string, RuleProgram>();
  private readonly maxEntries: number;

  constructor(private readonly options: RuleCompilerOptions = {}) {
    this.maxEntries = Math.max(1, options.maxEntries ?? DEFAULT_CACHE_SIZE);
  }

  compile(text: string): RuleProgram {
    const hit = this.cache.get(text);
    if (hit !== undefined) {
      this.cache.delete(text);
      this.cache.set(text, hit);
      return hit;
    }
    const rule = compileRule(text, this.options);
    if (this.cache.size >= this.maxEntries) {
      const oldest = this.cache.keys().next();
      if (oldest.done !== true) this.cache.delete(oldest.value);
    }
    this.cache.set(text, rule);
    return rule;
  }

  get size(): number {
    return this.cache.size;
  }

  clear(): void {
    this.cache.clear();
  }
}

const sharedCompiler = new RuleCompiler();

/** compileRule through a process-wide RuleCompiler (10,000 texts). */
export function compileRuleCached(text: string): RuleProgram {
  return sharedCompiler.compile(text);
}
