import type { Caller, IdentityRow } from '../model.js';
import { parseRule, MAX_RULE_DEPTH } from '../rules/rule-parser.js';
import { nullPaths, rulePaths, type RulePath } from '../rules/rule-paths.js';
import type { CompiledRule, RuleEvaluationNote, RuleVariableName } from '../rules/rule-types.js';
import type { RuleNode } from '../rules/rule-ast.js';
import type { RuleProgram } from '../rules/rule-compiler.js';
import type {
  DecisionStep,
  ResolutionTrace,
  RuleEvaluation,
  TwinDecision,
  TwinTrace,
} from './decision-trace.js';
import { compareAnswerOrder } from './resolution.js';

/**
 * The explanation of one resolution (docs/resolution.md "Explaining an answer"), built from the steps the decision
 * functions record while they decide — never by deciding again.
 *
 * Owner-safe by construction: a row of another account is remembered only once the decision has kept it, so a row
 * the caller may not see is not listed, not counted and changes nothing in the explanation. Of a kept foreign row
 * only what GET /resolve and GET /twins/{twin}/identities already tell the caller is shown: never its visibility
 * rule, and its validity and the twin facts a rule read only when the caller may see the twin.
 */

export type ExplainedCheck =
  | { check: 'context'; passed: boolean }
  | { check: 'validity'; passed: boolean; validity_ts?: number | null }
  | { check: 'visibility'; passed: boolean; detail: string }
  | ({ check: 'role.identity_rule' } & RuleReport);

/** A rule of the caller's own role as it was evaluated: its text, outcome, null variables and why. */
export interface RuleReport {
  passed: boolean;
  /** The rule text; null when the role has none. */
  rule: string | null;
  /** The variables the rule read that were null (like a policy simulator's missing context values). */
  missing?: string[];
  detail?: string;
  /** Set when the request's rule budget cut the evaluation short (`spent`) or could not afford compiling the rule. */
  budget?: 'spent' | 'deferred';
}

export interface ExplainedRow {
  twin: string;
  owner: string;
  personal: boolean;
  kept: boolean;
  /** The caller's own identity's visibility rule (null: private); never shown for another account's identity. */
  visibility?: string | null;
  checks: ExplainedCheck[];
}

export type ExplainedTwin = { twin: string; visible: boolean; by: TwinDecision['by'] } & Partial<
  Omit<RuleReport, 'passed'>
>;

/** Variables holding facts of the twin concerned: shown only to a caller who may see that twin. */
const TWIN_FACTS: ReadonlySet<RuleVariableName> = new Set<RuleVariableName>([
  'TWIN',
  'twin_owner',
  'twin_status',
]);

interface Listed {
  row: IdentityRow;
  personal: boolean;
  inContext: boolean;
  kept: boolean;
  steps: DecisionStep[];
}

/** Collects what resolveRows and visibleTwins record, then writes it out (`rows`, `twins`). */
export class ResolutionExplainer implements ResolutionTrace {
  private steps: DecisionStep[] = [];
  private readonly listed: Listed[] = [];
  private readonly twinDecisions: { twin: string; decision: TwinDecision }[] = [];
  private readonly paths = new Map<string, RulePath[]>();

  constructor(private readonly caller: Pick<Caller, 'account'>) {}

  begin(_row: IdentityRow): void {
    this.steps = [];
  }

  record(step: DecisionStep): void {
    this.steps.push(step);
  }

  end(row: IdentityRow, inContext: boolean, kept: boolean): void {
    const personal = isPersonal(row, this.caller.account);
    // The one place a foreign row could enter the explanation: only once it is kept.
    if (!personal && !kept) return;
    this.listed.push({ row, personal, inContext, kept, steps: this.steps });
  }

  /** For visibleTwins (details=true). */
  readonly twinTrace: TwinTrace = (twin, decision) => {
    this.twinDecisions.push({ twin, decision });
  };

  /**
   * The twins `rows` must know whether the caller may see: those of listed foreign rows (their validity) and of rows
   * whose rule read twin facts (what it read). Others need no twin facts at all.
   */
  listedTwins(): string[] {
    const twins = new Set<string>();
    for (const l of this.listed) if (!l.personal || l.steps.some(readTwin)) twins.add(l.row.twin);
    return Array.from(twins);
  }

  /**
   * The listed rows in answer order (twin creation time, twin, then the caller's own before others, then owner).
   * `twinShown(uuid)`: whether the caller may see that twin, hence its facts.
   */
  rows(twinShown: (uuid: string) => boolean): ExplainedRow[] {
    return [...this.listed]
      .sort(
        (a, b) =>
          compareAnswerOrder(a.row, b.row) ||
          Number(b.personal) - Number(a.personal) ||
          (a.row.owner < b.row.owner ? -1 : a.row.owner > b.row.owner ? 1 : 0),
      )
      .map((l) => this.describeRow(l, twinShown(l.row.twin)));
  }

  /** How each resolved twin's visibility was decided, in answer order (details=true). */
  twins(): ExplainedTwin[] {
    return this.twinDecisions.map(({ twin, decision }) => {
      const out: ExplainedTwin = { twin, visible: decision.visible, by: decision.by };
      if (decision.by === 'owner') out.detail = 'a twin of this account';
      else if (decision.by === 'unknown twin') out.detail = 'the index holds no facts of this twin';
      else if (decision.evaluation === null) {
        out.rule = null;
        out.detail = 'the role has no twin_rule: no twin of another account is visible';
      } else {
        // What the rule read of the twin is shown only when the rule let the caller see it.
        const { passed: _passed, ...report } = this.ruleReport(decision.evaluation, decision.visible);
        Object.assign(out, report);
      }
      return out;
    });
  }

  private describeRow(l: Listed, twinShown: boolean): ExplainedRow {
    const { row, personal } = l;
    const checks: ExplainedCheck[] = [{ check: 'context', passed: l.inContext }];
    for (const step of l.steps) {
      const check = this.describeStep(step, row, personal || twinShown, twinShown);
      if (check !== undefined) checks.push(check);
    }
    return {
      twin: row.twin,
      owner: row.owner,
      personal,
      kept: l.kept,
      ...(personal ? { visibility: row.visibility === null ? null : row.visibility.source } : {}),
      checks,
    };
  }

  /** `validityShown`: the caller's own row, or a twin it may see; `twinShown`: it may see the twin's facts. */
  private describeStep(
    step: DecisionStep,
    row: IdentityRow,
    validityShown: boolean,
    twinShown: boolean,
  ): ExplainedCheck | undefined {
    switch (step.step) {
      case 'validity':
        return validityShown
          ? { check: 'validity', passed: step.passed, validity_ts: row.validityTs }
          : { check: 'validity', passed: step.passed };
      case 'own':
        return { check: 'visibility', passed: true, detail: 'own identity' };
      case 'grant':
        // Only a kept grant is listed: it is granted to the caller's account.
        return {
          check: 'visibility',
          passed: step.passed,
          detail: 'granted to this account by a sync source',
        };
      case 'visibility':
        // Listed only when kept, so the owner's rule held; its text is the owner's and is never shown.
        return {
          check: 'visibility',
          passed: step.evaluation.passed,
          detail: 'visibility rule of its owner holds',
        };
      case 'private':
        // Never listed (a foreign private row is never kept); kept for completeness.
        return undefined;
      case 'identity_rule':
        return { check: 'role.identity_rule', ...this.ruleReport(step.evaluation, twinShown) };
    }
  }

  /** A rule of the caller's own role: shown in full, except what it read of a twin the caller may not see. */
  private ruleReport(evaluation: RuleEvaluation | null, twinShown: boolean): RuleReport {
    if (evaluation === null) return { passed: true, rule: null, detail: 'the role has none: no restriction' };
    const { rule, passed, vars, note } = evaluation;
    const readsTwin = readsTwinFacts(rule);
    const missing = nullPaths(this.pathsOf(rule), vars)
      .filter((p) => twinShown || !TWIN_FACTS.has(p.variable as RuleVariableName))
      .map((p) => p.text);
    // Keys in reading order: the rule, what it missed, then what came of it.
    const report: RuleReport = { passed, rule: rule.source };
    if (missing.length > 0) report.missing = missing;
    report.detail = outcome(passed, note, readsTwin && !twinShown);
    if (!passed && note.budget !== undefined) report.budget = note.budget;
    return report;
  }

  private pathsOf(rule: CompiledRule): RulePath[] {
    let paths = this.paths.get(rule.source);
    if (paths === undefined) {
      paths = rulePaths(astOf(rule));
      this.paths.set(rule.source, paths);
    }
    return paths;
  }
}

/** What came of an evaluation, in words; `withheld`: the evaluator's message may describe a twin not to be shown. */
function outcome(passed: boolean, note: RuleEvaluationNote, withheld: boolean): string {
  if (passed) return 'evaluated to true';
  if (note.budget === 'spent')
    return "not evaluated to the end: the request's rule step budget ran out (fails closed)";
  if (note.budget === 'deferred') {
    return 'not evaluated: compiling it did not fit in this request (fails closed; it is compiled for the next one)';
  }
  if (note.error === undefined) return 'evaluated to false';
  return withheld
    ? 'evaluation failed (fails closed); the message is withheld: it may describe a twin this caller may not see'
    : `evaluation failed (fails closed): ${note.error}`;
}

/** A grant is never personal, even to an account that also owns the name upstream (identity-filters.ts). */
export function isPersonal(row: IdentityRow, account: string): boolean {
  return row.owner === account && row.grantee == null;
}

function readsTwinFacts(rule: CompiledRule): boolean {
  for (const name of TWIN_FACTS) if (rule.variables.has(name)) return true;
  return false;
}

/** A step whose rule read facts of the twin. */
function readTwin(step: DecisionStep): boolean {
  return (
    (step.step === 'visibility' || step.step === 'identity_rule') &&
    step.evaluation !== null &&
    readsTwinFacts(step.evaluation.rule)
  );
}

/** The syntax tree: a compiled program has it; a rule read before it was compiled is parsed (it was valid when written). */
function astOf(rule: CompiledRule): RuleNode {
  if ('ast' in rule) return (rule as RuleProgram).ast;
  try {
    return parseRule(rule.source, MAX_RULE_DEPTH);
  } catch {
    return { kind: 'literal', value: null, pos: 0 };
  }
}
