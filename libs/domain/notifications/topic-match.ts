import type { TwinFacts } from '../model.js';
import type { CompiledRule, RuleVariables } from '../rules/rule-types.js';
import { evaluateRule } from '../visibility/rule-variables.js';
import type { Trigger } from './topic.js';

/** A topic as the dispatcher sees it: its triggers and its compiled rule (null: every change of those triggers). */
export interface TopicFilter {
  readonly topic: string;
  readonly triggers: readonly Trigger[];
  readonly rule: CompiledRule | null;
}

/** One outbox event: a trigger on one twin, the identity names it carries (empty for twin events). */
export interface PublishedChange {
  readonly trigger: Trigger;
  readonly twin: string;
  readonly identities: readonly string[];
}

/**
 * The rule variables of docs/notifications.md: `identity`, `twin`, `TWIN`, `twin_owner`, `twin_status`, `now`;
 * the caller's variables are null (nobody is calling).
 */
export function publishVariables(
  now: number,
  twin: string,
  facts: TwinFacts | undefined,
  identity: string | null,
): RuleVariables {
  return {
    account: null,
    user: null,
    role: null,
    now,
    twin,
    identity,
    twin_owner: facts ? facts.owner : null,
    twin_status: facts ? facts.status : null,
    TWIN: facts ? facts.description : null,
    USER: null,
    DICT: null,
  };
}

/**
 * Which identities of `change` a topic publishes: all of them (or, for a twin event, `[]` meaning the twin itself)
 * when its triggers include the change's and its rule holds. Returns null when the topic publishes nothing of it.
 * An identity event is published with the identities the rule holds for; the rule sees each identity in turn.
 */
export function publishedBy(
  topic: TopicFilter,
  change: PublishedChange,
  now: number,
  facts: TwinFacts | undefined,
): readonly string[] | null {
  if (!topic.triggers.includes(change.trigger)) return null;
  if (change.identities.length === 0) {
    if (topic.rule === null) return [];
    return evaluateRule(topic.rule, publishVariables(now, change.twin, facts, null)) ? [] : null;
  }
  if (topic.rule === null) return change.identities;
  const rule = topic.rule;
  const kept = change.identities.filter((name) =>
    evaluateRule(rule, publishVariables(now, change.twin, facts, name)),
  );
  return kept.length > 0 ? kept : null;
}
