import { Injectable } from '@nestjs/common';
import type { Trigger } from '../domain/notifications/topic.js';
import type { Queryable } from '../store/db.js';

export interface TopicRow {
  account: string;
  topic: string;
  triggers: Trigger[];
  rule: string | null;
  created_ts: number;
  updated_ts: number;
}

/** notification_topics: written by the topics API only. */
@Injectable()
export class TopicsRepository {
  async upsert(
    q: Queryable,
    row: { account: string; topic: string; triggers: Trigger[]; rule: string | null; now: number },
  ): Promise<TopicRow> {
    const [out] = await q.query<TopicRow>(
      `INSERT INTO notification_topics (account, topic, triggers, rule, created_ts, updated_ts)
       VALUES ($1, $2, $3, $4, $5, $5)
       ON CONFLICT (account, topic) DO UPDATE SET triggers = excluded.triggers, rule = excluded.rule,
         updated_ts = excluded.updated_ts
       RETURNING account, topic, triggers, rule, created_ts, updated_ts`,
      [row.account, row.topic, row.triggers, row.rule, row.now],
    );
    return out;
  }

  async list(q: Queryable, account: string): Promise<TopicRow[]> {
    return q.query<TopicRow>(
      `SELECT account, topic, triggers, rule, created_ts, updated_ts FROM notification_topics
        WHERE account = $1 ORDER BY topic`,
      [account],
    );
  }

  async get(q: Queryable, account: string, topic: string): Promise<TopicRow | undefined> {
    const [row] = await q.query<TopicRow>(
      `SELECT account, topic, triggers, rule, created_ts, updated_ts FROM notification_topics
        WHERE account = $1 AND topic = $2`,
      [account, topic],
    );
    return row;
  }

  async count(q: Queryable, account: string): Promise<number> {
    const [row] = await q.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM notification_topics WHERE account = $1',
      [account],
    );
    return row.n;
  }

  async delete(q: Queryable, account: string, topic: string): Promise<TopicRow | undefined> {
    const [row] = await q.query<TopicRow>(
      `DELETE FROM notification_topics WHERE account = $1 AND topic = $2
       RETURNING account, topic, triggers, rule, created_ts, updated_ts`,
      [account, topic],
    );
    return row;
  }

  /** Every topic of these accounts (the dispatcher's fan-out). */
  async forAccounts(q: Queryable, accounts: readonly string[]): Promise<TopicRow[]> {
    return q.query<TopicRow>(
      `SELECT account, topic, triggers, rule, created_ts, updated_ts FROM notification_topics
        WHERE account = ANY($1::uuid[])`,
      [accounts],
    );
  }
}
