import { Injectable } from '@nestjs/common';
import { nowSeconds } from '../../../libs/clock/clock.js';
import { badRequest, notFound } from '../../../libs/domain/errors.js';
import {
  assertTopicName,
  MAX_TOPICS_PER_ACCOUNT,
  normalizeTriggers,
} from '../../../libs/domain/notifications/topic.js';
import { assertRuleText } from '../../../libs/domain/rules/index.js';
import { SubscriptionsRepository } from '../../../libs/notifications/subscriptions.repository.js';
import { type TopicRow, TopicsRepository } from '../../../libs/notifications/topics.repository.js';
import { Db } from '../../../libs/store/db.js';

export interface TopicView {
  topic: string;
  account: string;
  triggers: string[];
  rule: string | null;
  created_ts: number;
  updated_ts: number;
}

const view = (t: TopicRow): TopicView => ({
  topic: t.topic,
  account: t.account,
  triggers: t.triggers,
  rule: t.rule,
  created_ts: t.created_ts,
  updated_ts: t.updated_ts,
});

/** What an account publishes (docs/notifications.md "Publishing: topics"). */
@Injectable()
export class TopicsService {
  constructor(
    private readonly db: Db,
    private readonly topics: TopicsRepository,
    private readonly subscriptions: SubscriptionsRepository,
  ) {}

  async put(
    account: string,
    topic: string,
    input: { triggers: string[]; rule?: string | null },
  ): Promise<TopicView> {
    assertTopicName(topic);
    const triggers = normalizeTriggers(input.triggers);
    const rule = input.rule ?? null;
    // Compiled now, so the dispatcher never holds a rule that cannot run.
    if (rule !== null) assertRuleText(rule, 'rule');
    return this.db.transaction(async (tx) => {
      // Serialises this account's topic writes so that two creations cannot both pass the limit.
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`notification-topics:${account}`]);
      const existing = await this.topics.get(tx, account, topic);
      if (!existing && (await this.topics.count(tx, account)) >= MAX_TOPICS_PER_ACCOUNT)
        throw badRequest('limit_exceeded', `An account may have at most ${MAX_TOPICS_PER_ACCOUNT} topics`);
      return view(await this.topics.upsert(tx, { account, topic, triggers, rule, now: nowSeconds() }));
    });
  }

  async list(account: string): Promise<{ topics: Record<string, TopicView> }> {
    const rows = await this.topics.list(this.db, account);
    return { topics: Object.fromEntries(rows.map((t) => [t.topic, view(t)])) };
  }

  /** The topic's subscriptions end with it (`status: "ended"`), and their queued messages go. */
  async delete(account: string, topic: string): Promise<TopicView> {
    return this.db.transaction(async (tx) => {
      const gone = await this.topics.delete(tx, account, topic);
      if (!gone) throw notFound('Topic');
      await this.subscriptions.end(tx, { account, topic }, nowSeconds());
      return view(gone);
    });
  }
}
