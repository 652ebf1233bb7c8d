import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { nowSeconds } from '../../../libs/clock/clock.js';
import type { TwinFacts } from '../../../libs/domain/model.js';
import { publishedBy, type TopicFilter } from '../../../libs/domain/notifications/topic-match.js';
import { isTrigger } from '../../../libs/domain/notifications/topic.js';
import { ruleNeedsTwinFacts } from '../../../libs/domain/visibility/rule-variables.js';
import { storedRule } from '../../../libs/domain/rules/index.js';
import { TopicsRepository } from '../../../libs/notifications/topics.repository.js';
import { Db } from '../../../libs/store/db.js';
import { DeliveryRepository, type NewMessage, type OutboxEvent } from './delivery.repository.js';

/** Events fanned out per transaction: bounds one transaction's locks and memory during a bulk import. */
const EVENTS_PER_BATCH = 500;

/**
 * Stage two of the outbox: turns the events the triggers wrote into per-subscription messages. For each event, the
 * publishing account's topics whose triggers and rule accept it (libs/domain/notifications/topic-match.ts), and for
 * each of their active or suspended subscriptions one message with the subscription's next `sequence`. Events,
 * messages and sequences change in one transaction, so a crash repeats a batch whole or not at all.
 */
@Injectable()
export class OutboxDispatcher {
  constructor(
    private readonly db: Db,
    private readonly topics: TopicsRepository,
    private readonly delivery: DeliveryRepository,
  ) {}

  /** Drains the outbox; returns how many messages were queued. Another worker's dispatch makes this a no-op. */
  async drain(): Promise<number> {
    let queued = 0;
    for (;;) {
      const batch = await this.db.transaction(async (tx) => {
        if (!(await this.delivery.tryDispatchLock(tx))) return undefined;
        const events = await this.delivery.nextEvents(tx, EVENTS_PER_BATCH);
        if (events.length === 0) return undefined;
        const messages = await this.fanOut(tx, events);
        await this.delivery.deleteEvents(
          tx,
          events.map((e) => e.id),
        );
        return messages;
      });
      if (batch === undefined) return queued;
      queued += batch;
    }
  }

  private async fanOut(
    tx: Parameters<Parameters<Db['transaction']>[0]>[0],
    events: OutboxEvent[],
  ): Promise<number> {
    const accounts = [...new Set(events.map((e) => e.account))];
    const subscriptions = await this.delivery.fanoutSubscriptions(tx, accounts);
    if (subscriptions.length === 0) return 0;
    const filters = new Map<string, TopicFilter[]>();
    for (const t of await this.topics.forAccounts(tx, accounts)) {
      const list = filters.get(t.account) ?? [];
      list.push({ topic: t.topic, triggers: t.triggers, rule: storedRule(t.rule) });
      filters.set(t.account, list);
    }
    const byTopic = new Map<string, typeof subscriptions>();
    for (const s of subscriptions) {
      const key = `${s.account}|${s.topic}`;
      byTopic.set(key, [...(byTopic.get(key) ?? []), s]);
    }
    const needFacts = [...filters.values()].flat().some((f) => ruleNeedsTwinFacts(f.rule));
    const facts = new Map<string, TwinFacts>();
    if (needFacts)
      for (const t of await this.delivery.twinFacts(tx, [...new Set(events.map((e) => e.twin))]))
        facts.set(t.uuid, {
          uuid: t.uuid,
          owner: t.owner,
          status: t.status,
          description: t.description,
          createdTs: t.created_ts,
        });

    const next = new Map(subscriptions.map((s) => [s.uuid, Number(s.next_sequence)]));
    const messages: NewMessage[] = [];
    const now = nowSeconds();
    for (const e of events) {
      if (!isTrigger(e.trigger)) continue;
      const identities = e.trigger.startsWith('identity.') ? Object.keys(e.event) : [];
      for (const topic of filters.get(e.account) ?? []) {
        const subs = byTopic.get(`${e.account}|${topic.topic}`);
        if (!subs) continue;
        const kept = publishedBy(
          topic,
          { trigger: e.trigger, twin: e.twin, identities },
          now,
          facts.get(e.twin),
        );
        if (kept === null) continue;
        const event =
          identities.length === 0 || kept.length === identities.length
            ? e.event
            : Object.fromEntries(kept.map((name) => [name, e.event[name]]));
        for (const s of subs) {
          const sequence = next.get(s.uuid)!;
          next.set(s.uuid, sequence + 1);
          messages.push({
            subscription: s.uuid,
            sequence,
            message: randomUUID(),
            trigger: e.trigger,
            twin: e.twin,
            event,
            changedTs: e.changed_ts,
            createdTs: now,
          });
        }
      }
    }
    await this.delivery.appendMessages(tx, messages);
    await this.delivery.setNextSequences(tx, next);
    return messages.length;
  }
}
