import { Injectable } from '@nestjs/common';
import type { Queryable } from '../../../libs/store/db.js';
import type {
  SubscriptionRow,
  SubscriptionStatus,
} from '../../../libs/notifications/subscriptions.repository.js';

export interface OutboxEvent {
  id: string;
  account: string;
  trigger: string;
  twin: string;
  event: Record<string, unknown>;
  changed_ts: number;
}

export interface FanoutSubscription {
  uuid: string;
  account: string;
  topic: string;
  next_sequence: string;
}

export interface NewMessage {
  subscription: string;
  sequence: number;
  message: string;
  trigger: string;
  twin: string;
  event: Record<string, unknown>;
  changedTs: number;
  createdTs: number;
}

/** The columns of a subscription the delivery loop reads (the books' row, without its bookkeeping). */
export type DueSubscription = Pick<
  SubscriptionRow,
  | 'uuid'
  | 'account'
  | 'topic'
  | 'subscriber'
  | 'callback_url'
  | 'token_nonce'
  | 'hash_key_sealed'
  | 'max_batch'
  | 'status'
  | 'validity_ts'
  | 'confirmation_due'
  | 'failures'
  | 'failing_since'
>;

export interface QueuedMessage {
  sequence: string;
  message: string;
  trigger: string;
  twin: string;
  event: Record<string, unknown>;
  changed_ts: number;
}

const DUE_COLUMNS = `uuid, account, topic, subscriber, callback_url, token_nonce, hash_key_sealed, max_batch, status,
  validity_ts, confirmation_due, failures, failing_since`;

/**
 * The worker's side of the outbox: it drains notification_events into notification_messages (the dispatcher), and
 * owns the delivery columns of notification_subscriptions (lease, failures, next attempt, suspended/expired).
 */
@Injectable()
export class DeliveryRepository {
  /** Only one dispatcher at a time (per database): fan-out assigns sequences, which must not interleave. */
  async tryDispatchLock(q: Queryable): Promise<boolean> {
    const [row] = await q.query<{ ok: boolean }>(
      `SELECT pg_try_advisory_xact_lock(hashtext('twindex-notify-dispatch')) AS ok`,
    );
    return row.ok;
  }

  async nextEvents(q: Queryable, limit: number): Promise<OutboxEvent[]> {
    // Primary-key order (the bigint, not its text: '10' sorts before '9'): the order the changes wrote their events.
    return q.query<OutboxEvent>(
      `SELECT e.id::text AS id, e.account, e.trigger, e.twin, e.event, e.changed_ts
         FROM notification_events e ORDER BY e.id LIMIT $1`,
      [limit],
    );
  }

  async fanoutSubscriptions(q: Queryable, accounts: readonly string[]): Promise<FanoutSubscription[]> {
    // Pending ones get nothing but their confirmation; suspended ones keep collecting (a refresh resumes them).
    // No row lock: next_sequence has one writer, the dispatcher, serialised by its advisory lock.
    return q.query<FanoutSubscription>(
      `SELECT uuid, account, topic, next_sequence::text FROM notification_subscriptions
        WHERE account = ANY($1::uuid[]) AND status IN ('active', 'suspended')`,
      [accounts],
    );
  }

  async appendMessages(q: Queryable, messages: readonly NewMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await q.query(
      `INSERT INTO notification_messages (subscription, sequence, message, trigger, twin, event, changed_ts,
         created_ts)
       SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::uuid[], $4::text[], $5::uuid[], $6::jsonb[],
                            $7::double precision[], $8::double precision[])`,
      [
        messages.map((m) => m.subscription),
        messages.map((m) => m.sequence),
        messages.map((m) => m.message),
        messages.map((m) => m.trigger),
        messages.map((m) => m.twin),
        messages.map((m) => JSON.stringify(m.event)),
        messages.map((m) => m.changedTs),
        messages.map((m) => m.createdTs),
      ],
    );
  }

  async setNextSequences(q: Queryable, next: ReadonlyMap<string, number>): Promise<void> {
    if (next.size === 0) return;
    await q.query(
      `UPDATE notification_subscriptions s SET next_sequence = n.next
         FROM unnest($1::uuid[], $2::bigint[]) AS n(uuid, next) WHERE s.uuid = n.uuid`,
      [[...next.keys()], [...next.values()]],
    );
  }

  async deleteEvents(q: Queryable, ids: readonly string[]): Promise<void> {
    await q.query('DELETE FROM notification_events WHERE id = ANY($1::bigint[])', [ids]);
  }

  async twinFacts(
    q: Queryable,
    twins: readonly string[],
  ): Promise<
    Array<{
      uuid: string;
      owner: string;
      status: 'alive' | 'terminated';
      description: Record<string, unknown>;
      created_ts: number;
    }>
  > {
    return q.query(
      'SELECT uuid, owner, status, description, created_ts FROM twins WHERE uuid = ANY($1::uuid[])',
      [twins],
    );
  }

  /**
   * Subscriptions with something to send now and no other worker on them: a confirmation (pending), or queued
   * messages (active) whose next attempt is due. Leased for `leaseSeconds` in the same statement (SKIP LOCKED).
   */
  async claimDue(
    q: Queryable,
    owner: string,
    now: number,
    leaseSeconds: number,
    limit: number,
  ): Promise<DueSubscription[]> {
    // Index: the planner walks the messages' primary key (subscription, sequence) for the EXISTS probe. A lease of
    // this same worker counts as free: the caller skips the subscriptions it has in flight.
    return q.query<DueSubscription>(
      `UPDATE notification_subscriptions s SET lease_until = $1 + $2, lease_owner = $4
        WHERE s.uuid IN (
          SELECT uuid FROM notification_subscriptions c
           WHERE (c.lease_until < $1 OR c.lease_owner = $4) AND c.next_attempt_ts <= $1 AND c.validity_ts > $1
             AND ((c.status = 'pending' AND c.confirmation_due)
                  OR (c.status = 'active'
                      AND EXISTS (SELECT 1 FROM notification_messages m WHERE m.subscription = c.uuid)))
           ORDER BY c.next_attempt_ts LIMIT $3 FOR UPDATE SKIP LOCKED)
        RETURNING ${DUE_COLUMNS}`,
      [now, leaseSeconds, limit, owner],
    );
  }

  async release(q: Queryable, uuids: readonly string[]): Promise<void> {
    if (uuids.length === 0) return;
    await q.query('UPDATE notification_subscriptions SET lease_until = 0 WHERE uuid = ANY($1::uuid[])', [
      uuids,
    ]);
  }

  /** When the next retry falls due (the loop's timer), if any. */
  async nextAttemptAt(q: Queryable, now: number): Promise<number | undefined> {
    const [row] = await q.query<{ at: number | null }>(
      `SELECT min(next_attempt_ts) AS at FROM notification_subscriptions
        WHERE next_attempt_ts > $1 AND status IN ('pending', 'active')`,
      [now],
    );
    return row.at ?? undefined;
  }

  /**
   * The subscription's status and validity now, with its next queued messages in `sequence` order: one round trip
   * per POST (an unsubscribed, ended or expired subscription is seen here before anything more is sent).
   */
  async nextBatch(
    q: Queryable,
    uuid: string,
    limit: number,
  ): Promise<{ status: SubscriptionStatus; validity_ts: number; messages: QueuedMessage[] } | undefined> {
    // Ordered by the bigint column, not the text it is returned as ('10' sorts before '2'); primary-key walk.
    const rows = await q.query<{ status: SubscriptionStatus; validity_ts: number } & Partial<QueuedMessage>>(
      `SELECT s.status, s.validity_ts, m.sequence::text AS sequence, m.message, m.trigger, m.twin, m.event,
              m.changed_ts
         FROM notification_subscriptions s
         LEFT JOIN LATERAL (SELECT * FROM notification_messages x WHERE x.subscription = s.uuid
                             ORDER BY x.sequence LIMIT $2) m ON true
        WHERE s.uuid = $1`,
      [uuid, limit],
    );
    if (rows.length === 0) return undefined;
    const messages = rows.filter((r) => r.sequence !== null && r.sequence !== undefined) as QueuedMessage[];
    return { status: rows[0].status, validity_ts: rows[0].validity_ts, messages };
  }

  /** A 2xx: the messages up to this sequence are gone and the failure count resets, in one statement. */
  async delivered(q: Queryable, uuid: string, upToSequence: string, now: number): Promise<void> {
    await q.query(
      `WITH gone AS (DELETE FROM notification_messages WHERE subscription = $1 AND sequence <= $2::bigint)
       UPDATE notification_subscriptions SET failures = 0, failing_since = NULL, last_error = NULL,
         last_delivery_ts = $3, next_attempt_ts = 0 WHERE uuid = $1`,
      [uuid, upToSequence, now],
    );
  }

  async confirmationSent(q: Queryable, uuid: string, now: number): Promise<void> {
    await q.query(
      `UPDATE notification_subscriptions SET confirmation_due = false, failures = 0, failing_since = NULL,
         last_error = NULL, last_delivery_ts = $2, next_attempt_ts = 0 WHERE uuid = $1`,
      [uuid, now],
    );
  }

  async failed(
    q: Queryable,
    uuid: string,
    outcome: { retryAt: number } | { suspend: true },
    error: string,
    now: number,
  ): Promise<void> {
    if ('suspend' in outcome) {
      // A pending one that never took its confirmation just stops asking; an active one is suspended.
      await q.query(
        `UPDATE notification_subscriptions SET failures = failures + 1, last_error = $2,
           status = CASE WHEN status = 'active' THEN 'suspended' ELSE status END, confirmation_due = false
         WHERE uuid = $1`,
        [uuid, error],
      );
      return;
    }
    await q.query(
      `UPDATE notification_subscriptions SET failures = failures + 1, failing_since = coalesce(failing_since, $4),
         last_error = $2, next_attempt_ts = $3 WHERE uuid = $1`,
      [uuid, error, outcome.retryAt, now],
    );
  }

  /**
   * Housekeeping that keeps the outbox bounded: subscriptions past their validity expire and drop their queue;
   * messages older than 7 days (a suspended subscription's) are dropped.
   */
  async expireAndTrim(q: Queryable, now: number, keepSeconds: number): Promise<void> {
    await q.query(
      `WITH gone AS (
         UPDATE notification_subscriptions SET status = 'expired', updated_ts = $1
          WHERE validity_ts <= $1 AND status IN ('pending', 'active', 'suspended') RETURNING uuid)
       DELETE FROM notification_messages WHERE subscription IN (SELECT uuid FROM gone)`,
      [now],
    );
    await q.query('DELETE FROM notification_messages WHERE created_ts < $1', [now - keepSeconds]);
  }

  async publishExpired(q: Queryable, after: number, upto: number): Promise<number> {
    const [row] = await q.query<{ n: string }>('SELECT twindex_publish_expired($1, $2)::text AS n', [
      after,
      upto,
    ]);
    return Number(row.n);
  }

  async watermark(q: Queryable, name: string): Promise<number | undefined> {
    const [row] = await q.query<{ value: number }>('SELECT value FROM notification_state WHERE name = $1', [
      name,
    ]);
    return row?.value;
  }

  async setWatermark(q: Queryable, name: string, value: number): Promise<void> {
    await q.query(
      `INSERT INTO notification_state (name, value) VALUES ($1, $2)
       ON CONFLICT (name) DO UPDATE SET value = excluded.value`,
      [name, value],
    );
  }

  async depth(q: Queryable): Promise<{ events: number; messages: number; suspended: number }> {
    const [row] = await q.query<{ events: number; messages: number; suspended: number }>(
      `SELECT (SELECT count(*) FROM notification_events)::int AS events,
              (SELECT count(*) FROM notification_messages)::int AS messages,
              (SELECT count(*) FROM notification_subscriptions WHERE status = 'suspended')::int AS suspended`,
    );
    return row;
  }
}
