import type { Caller, TwinFacts } from '../model.js';
import {
  type CompiledRule,
  RuleBudget,
  type RuleEvaluationNote,
  REQUEST_STEP_BUDGET,
  type RuleVariableName,
  type RuleVariables,
} from '../rules/rule-types.js';

/**
 * The variables of docs/rules.md for one decision. `identity` is set for identity rules and visibility, null for twin
 * rules. Every key is always present (null when unknown) so every object has the same shape — the evaluator's
 * property reads stay monomorphic on the hot path.
 */
export function ruleVariables(
  caller: Caller,
  now: number,
  twin: TwinFacts | undefined,
  identityName?: string,
): RuleVariables {
  return variablesFor(caller, now, twin?.uuid ?? null, twin, identityName ?? null);
}

/**
 * Like ruleVariables, but with the twin's UUID given separately: an index row always knows its twin's UUID even
 * when the twin's facts were not loaded, and `twin` must not turn null just because `TWIN` is unknown.
 */
export function variablesFor(
  caller: Caller,
  now: number,
  twinUuid: string | null,
  twin: TwinFacts | undefined,
  identity: string | null,
): RuleVariables {
  return {
    account: caller.account,
    user: caller.user,
    role: caller.role,
    now,
    twin: twinUuid,
    identity,
    twin_owner: twin ? twin.owner : null,
    twin_status: twin ? twin.status : null,
    TWIN: twin ? twin.description : null,
    USER: caller.userDescription,
    DICT: caller.dict,
  };
}

/**
 * True only for a rule that returns exactly `true`. The compiled-rule contract already fails closed; the catch
 * and the strict comparison are a second fence so that a bug in a rule implementation can never widen visibility.
 */
export function evaluateRule(
  rule: CompiledRule,
  vars: RuleVariables,
  budget?: RuleBudget,
  note?: RuleEvaluationNote,
): boolean {
  try {
    return rule.evaluate(vars, budget, note) === true;
  } catch (error) {
    if (note !== undefined) note.error = error instanceof Error ? error.message : String(error);
    return false;
  }
}

const TWIN_FACT_VARIABLES: readonly RuleVariableName[] = ['twin_owner', 'twin_status', 'TWIN'];

/** Whether evaluating `rule` needs the twin's facts (owner, status, description) rather than just its UUID. */
export function ruleNeedsTwinFacts(rule: CompiledRule | null): boolean {
  if (rule === null) return false;
  for (const name of TWIN_FACT_VARIABLES) if (rule.variables.has(name)) return true;
  return false;
}

/**
 * The caller for one request's decisions, with a fresh request-wide rule budget (issue #10): every rule the
 * request evaluates draws on it, and once it is spent every further rule is false (fail closed). A copy, because
 * the principal itself is cached and shared between requests.
 */
export function withRequestRuleBudget<C extends Caller>(caller: C, steps = REQUEST_STEP_BUDGET): C {
  return { ...caller, ruleBudget: new RuleBudget(steps) };
}

/**
 * Whether the request's rule budget is spent, so answers from here on may be cut short by it — or a rule was false
 * only because the request could not afford to compile it (compiled off the request, for the next one: issue #20).
 */
export function ruleBudgetSpent(caller: Caller): boolean {
  const budget = caller.ruleBudget;
  return budget !== undefined && (budget.remaining <= 0 || budget.deferred);
}
