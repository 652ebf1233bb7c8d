import { badRequest } from '../errors.js';

/** The triggers a topic may list (docs/notifications.md "Publishing: topics"). */
export const TRIGGERS = [
  'identity.created',
  'identity.updated',
  'identity.deleted',
  'identity.expired',
  'twin.updated',
  'twin.terminated',
] as const;

export type Trigger = (typeof TRIGGERS)[number];

export const TOPIC_NAME_PATTERN = /^[0-9A-Za-z_.-]{1,127}$/;

/** Per-account ceilings on topics and subscriptions (`400 limit_exceeded` beyond). */
export const MAX_TOPICS_PER_ACCOUNT = 100;
export const MAX_SUBSCRIPTIONS_PER_ACCOUNT = 100;

const TRIGGER_SET: ReadonlySet<string> = new Set(TRIGGERS);

export function isTrigger(s: unknown): s is Trigger {
  return typeof s === 'string' && TRIGGER_SET.has(s);
}

export function assertTopicName(name: string): void {
  if (!TOPIC_NAME_PATTERN.test(name))
    throw badRequest('invalid_topic', `Topic name must match ${TOPIC_NAME_PATTERN.source}`);
}

/** At least one trigger, each known; repeats dropped, catalogue order kept so listings are stable. */
export function normalizeTriggers(triggers: readonly string[]): Trigger[] {
  const unknown = triggers.filter((t) => !isTrigger(t));
  if (unknown.length > 0)
    throw badRequest(
      'invalid_trigger',
      `Unknown trigger(s): ${unknown
        .slice(0, 5)
        .map((t) => `'${t.slice(0, 40)}'`)
        .join(', ')}`,
    );
  if (triggers.length === 0) throw badRequest('invalid_trigger', 'A topic needs at least one trigger');
  return TRIGGERS.filter((t) => triggers.includes(t));
}
