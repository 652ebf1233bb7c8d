import type { Caller, IdentityRow, TwinFacts } from '../model.js';
import type { CompiledRule, RuleVariables } from '../rules/rule-types.js';
import type { DecisionTrace, RuleEvaluation, TwinTrace } from './decision-trace.js';
import { evaluateRule, ruleVariables, variablesFor } from './rule-variables.js';

/**
 * docs/visibility.md "Who sees a twin": own twins, or the role's twin_rule is true (null = no foreign twins).
 * `trace` (explain only) is told how it was decided.
 */
export function canSeeTwin(caller: Caller, twin: TwinFacts, now: number, trace?: TwinTrace): boolean {
  if (twin.owner === caller.account) {
    trace?.(twin.uuid, { visible: true, by: 'owner' });
    return true;
  }
  const rule = caller.twinRule;
  if (rule === null) {
    trace?.(twin.uuid, { visible: false, by: 'role.twin_rule', evaluation: null });
    return false;
  }
  const vars = ruleVariables(caller, now, twin);
  if (trace === undefined) return evaluateRule(rule, vars, caller.ruleBudget);
  const evaluation = evaluated(rule, vars, caller);
  trace(twin.uuid, { visible: evaluation.passed, by: 'role.twin_rule', evaluation });
  return evaluation.passed;
}

/** The decision's own evaluation of `rule`, with the note that says why when it fails. */
function evaluated(rule: CompiledRule, vars: RuleVariables, caller: Caller): RuleEvaluation {
  const note = {};
  return { rule, passed: evaluateRule(rule, vars, caller.ruleBudget, note), vars, note };
}

/** Valid while validity_ts is null or strictly in the future; expired at the instant validity_ts == now. */
export function isValid(row: IdentityRow, now: number): boolean {
  return row.validityTs === null || row.validityTs > now;
}

export interface IdentityVisibilityOptions {
  /** Let personal expired identities through (listing with `show_expired`); foreign ones never are. */
  allowExpiredPersonal?: boolean;
}

/** Supplies the rule variables of a row, built at most once per twin of the rows being decided. */
export interface RowVariables {
  forRow(row: IdentityRow): RuleVariables;
}

/**
 * docs/visibility.md "Who sees an identity": (owner is the caller's account, or visibility is non-null and true)
 * AND (role identity_rule null or true) AND valid (personal expired only when allowed).
 * `twin` supplies TWIN/twin_owner/twin_status; undefined makes them null (a rule reading them sees null).
 */
export function canSeeIdentity(
  caller: Caller,
  row: IdentityRow,
  twin: TwinFacts | undefined,
  now: number,
  options: IdentityVisibilityOptions = {},
): boolean {
  return decideIdentity(
    caller,
    row,
    now,
    options.allowExpiredPersonal === true,
    new SingleTwinVariables(caller, now, twin),
  );
}

/**
 * The decision itself, cheapest tests first: validity and ownership are comparisons; rules are evaluated only
 * when they can change the answer, and their variables are built only then.
 */
export function decideIdentity(
  caller: Caller,
  row: IdentityRow,
  now: number,
  allowExpiredPersonal: boolean,
  variables: RowVariables,
  trace?: DecisionTrace,
): boolean {
  return decide(caller, row, now, allowExpiredPersonal, variables, trace) === true;
}

/**
 * The same decision (resolution's: expired rows are never kept) as far as it goes without evaluating a rule: true or
 * false, or undefined when a rule would have to be evaluated. For the cached hot path, which then hands the row to
 * decideIdentity with the twin facts and rule budget a rule may need.
 */
export function decideIdentityWithoutRules(
  caller: Caller,
  row: IdentityRow,
  now: number,
): boolean | undefined {
  return decide(caller, row, now, false, undefined);
}

/**
 * Written once for both: without `variables`, a rule that must be evaluated makes the answer undefined. `trace`
 * (explain only) records each step as it is taken; the steps and their order are the decision's own.
 */
function decide(
  caller: Caller,
  row: IdentityRow,
  now: number,
  allowExpiredPersonal: boolean,
  variables: RowVariables | undefined,
  trace?: DecisionTrace,
): boolean | undefined {
  if (row.grantee != null) {
    // A grant: its grantee alone may see it, only while valid; its visibility and ownership play no part.
    if (row.grantee !== caller.account) {
      trace?.record({ step: 'grant', passed: false });
      return false;
    }
    const valid = isValid(row, now);
    trace?.record({ step: 'validity', passed: valid });
    if (!valid) return false;
    trace?.record({ step: 'grant', passed: true });
    return roleAdmits(caller, row, variables, trace);
  }
  const personal = row.owner === caller.account;
  // Foreign and private: never seen, whatever its validity (decided first: the cheapest test on a packed row).
  if (!personal && row.visibility === null) {
    trace?.record({ step: 'private' });
    return false;
  }
  const valid = isValid(row, now) || (personal && allowExpiredPersonal);
  trace?.record({ step: 'validity', passed: valid });
  if (!valid) return false;
  if (!personal && row.visibility !== null) {
    const visible = holds(row.visibility, caller, row, variables, trace, 'visibility');
    if (visible !== true) return visible;
  } else trace?.record({ step: 'own' });
  return roleAdmits(caller, row, variables, trace);
}

/** Step 2 of "Who sees an identity": the role's identity_rule is null or true. */
function roleAdmits(
  caller: Caller,
  row: IdentityRow,
  variables: RowVariables | undefined,
  trace: DecisionTrace | undefined,
): boolean | undefined {
  if (caller.identityRule === null) {
    trace?.record({ step: 'identity_rule', evaluation: null });
    return true;
  }
  return holds(caller.identityRule, caller, row, variables, trace, 'identity_rule');
}

function holds(
  rule: CompiledRule,
  caller: Caller,
  row: IdentityRow,
  variables: RowVariables | undefined,
  trace: DecisionTrace | undefined,
  step: 'visibility' | 'identity_rule',
): boolean | undefined {
  if (variables === undefined) return undefined;
  if (trace === undefined) return evaluateRule(rule, variables.forRow(row), caller.ruleBudget);
  const evaluation = evaluated(rule, variables.forRow(row), caller);
  trace.record({ step, evaluation });
  return evaluation.passed;
}

/** Variables for rows of one known twin (canSeeIdentity): built on first use, then reused. */
class SingleTwinVariables implements RowVariables {
  private vars: RuleVariables | undefined;
  constructor(
    private readonly caller: Caller,
    private readonly now: number,
    private readonly twin: TwinFacts | undefined,
  ) {}

  forRow(row: IdentityRow): RuleVariables {
    if (this.vars === undefined || this.vars.identity !== row.name || this.vars.twin !== row.twin) {
      this.vars = variablesFor(this.caller, this.now, row.twin, this.twin, row.name);
    }
    return this.vars;
  }
}

/**
 * Variables for many rows (resolution, listing): one object per (twin, name), twin facts looked up lazily.
 * Rows of one name differ only by twin and owner, and the variables do not depend on the owner, so rows of the
 * same twin share one object. The Map is created only when a second distinct (twin, name) shows up.
 */
export class TwinVariablesCache implements RowVariables {
  private last: RuleVariables | undefined;
  private lastKey = '';
  private seen: Map<string, RuleVariables> | undefined;

  constructor(
    private readonly caller: Caller,
    private readonly now: number,
    private readonly twinOf: (uuid: string) => TwinFacts | undefined,
  ) {}

  forRow(row: IdentityRow): RuleVariables {
    const last = this.last;
    if (last !== undefined && last.twin === row.twin && last.identity === row.name) return last;
    // UUIDs never contain a newline and names cannot: the key is unambiguous.
    const key = `${row.twin}\n${row.name}`;
    let vars = this.seen?.get(key);
    if (vars === undefined) {
      vars = variablesFor(this.caller, this.now, row.twin, this.twinOf(row.twin), row.name);
      if (last !== undefined) {
        this.seen ??= new Map([[this.lastKey, last]]);
        this.seen.set(key, vars);
      }
    }
    this.last = vars;
    this.lastKey = key;
    return vars;
  }
}
