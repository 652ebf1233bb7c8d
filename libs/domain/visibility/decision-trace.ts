import type { IdentityRow } from '../model.js';
import type { CompiledRule, RuleEvaluationNote, RuleVariables } from '../rules/rule-types.js';

/**
 * The reasons the decision functions give when asked (docs/resolution.md "Explaining an answer"). They are handed a
 * trace only by POST /resolve/explain; the resolve path passes none and pays one `undefined` test per step for it.
 * The decision is the one that answers GET /resolve: the trace records what it did, it never decides anything.
 */

/** One rule evaluation as the decision ran it: the very call that decided, with its variables and note. */
export interface RuleEvaluation {
  readonly rule: CompiledRule;
  readonly passed: boolean;
  readonly vars: RuleVariables;
  readonly note: RuleEvaluationNote;
}

/** One step of deciding an identity row, in the order the decision takes them. */
export type DecisionStep =
  /** A synced grant: granted to the caller's account or not. */
  | { readonly step: 'grant'; readonly passed: boolean }
  /** Foreign and private (visibility null): never seen. */
  | { readonly step: 'private' }
  | { readonly step: 'validity'; readonly passed: boolean }
  /** Owned by the caller's account: visible whatever its visibility. */
  | { readonly step: 'own' }
  /** A foreign identity's visibility rule. */
  | { readonly step: 'visibility'; readonly evaluation: RuleEvaluation }
  /** The role's identity_rule; null when the role has none (no restriction). */
  | { readonly step: 'identity_rule'; readonly evaluation: RuleEvaluation | null };

/** Receives the steps of one identity decision. */
export interface DecisionTrace {
  record(step: DecisionStep): void;
}

/** Receives the steps of resolution: each row is begun, its decision recorded, then ended with the outcome. */
export interface ResolutionTrace extends DecisionTrace {
  begin(row: IdentityRow): void;
  end(row: IdentityRow, inContext: boolean, kept: boolean): void;
}

/** How a twin's visibility was decided (details=true). */
export type TwinDecision =
  | { readonly visible: true; readonly by: 'owner' }
  /** Another account's twin: the role's twin_rule decides; null when there is none (no foreign twins). */
  | { readonly visible: boolean; readonly by: 'role.twin_rule'; readonly evaluation: RuleEvaluation | null }
  /** The index has no facts of the twin (deleted meanwhile): nothing to show. */
  | { readonly visible: false; readonly by: 'unknown twin' };

export type TwinTrace = (twin: string, decision: TwinDecision) => void;
