import { Injectable } from '@nestjs/common';
import type { Queryable } from '../store/db.js';

export type SubscriptionStatus = 'pending' | 'active' | 'suspended' | 'expired' | 'ended';

export interface SubscriptionRow {
  uuid: string;
  account: string;
  topic: string;
  subscriber: string;
  callback_url: string;
  token_nonce: string;
  hash_key_sealed: Buffer | null;
  max_batch: number | null;
  status: SubscriptionStatus;
  validity_ts: number;
  confirmation_due: boolean;
  failures: number;
  failing_since: number | null;
  last_error: string | null;
  next_attempt_ts: number;
  last_delivery_ts: number | null;
  created_ts: number;
  updated_ts: number;
}

const COLUMNS = `uuid, account, topic, subscriber, callback_url, token_nonce, hash_key_sealed, max_batch, status,
  validity_ts, confirmation_due, failures, failing_since, last_error, next_attempt_ts, last_delivery_ts, created_ts,
  updated_ts`;

/** Subscriptions that still take part in publishing (counted against the per-account limit). */
export const LIVE_STATUSES: readonly SubscriptionStatus[] = ['pending', 'active', 'suspended'];

/**
 * notification_subscriptions, lifecycle side: written by the API (subscribe, confirm, refresh, unsubscribe, topic
 * deletion). The delivery columns (failures, next_attempt_ts, lease_until, last_delivery_ts, next_sequence, and the
 * move to `suspended`/`expired`) are the worker's (apps/worker/notifications/delivery.repository.ts).
 */
@Injectable()
export class SubscriptionsRepository {
  async insert(
    q: Queryable,
    row: {
      uuid: string;
      account: string;
      topic: string;
      subscriber: string;
      callbackUrl: string;
      tokenHash: Buffer;
      tokenNonce: string;
      hashKeySealed: Buffer | null;
      maxBatch: number | null;
      validityTs: number;
      now: number;
    },
  ): Promise<SubscriptionRow> {
    const [out] = await q.query<SubscriptionRow>(
      `INSERT INTO notification_subscriptions (uuid, account, topic, subscriber, callback_url, token_hash, token_nonce,
         hash_key_sealed, max_batch, status, validity_ts, created_ts, updated_ts)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', $10, $11, $11)
       RETURNING ${COLUMNS}`,
      [
        row.uuid,
        row.account,
        row.topic,
        row.subscriber,
        row.callbackUrl,
        row.tokenHash,
        row.tokenNonce,
        row.hashKeySealed,
        row.maxBatch,
        row.validityTs,
        row.now,
      ],
    );
    return out;
  }

  /** Looked up by the token's hash (an index probe); the caller still checks the token's mac in constant time. */
  async byTokenHash(q: Queryable, tokenHash: Buffer): Promise<SubscriptionRow | undefined> {
    const [row] = await q.query<SubscriptionRow>(
      `SELECT ${COLUMNS} FROM notification_subscriptions WHERE token_hash = $1 FOR UPDATE`,
      [tokenHash],
    );
    return row;
  }

  async countLive(q: Queryable, subscriber: string): Promise<number> {
    const [row] = await q.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM notification_subscriptions WHERE subscriber = $1 AND status = ANY($2)`,
      [subscriber, LIVE_STATUSES],
    );
    return row.n;
  }

  async listBySubscriber(q: Queryable, subscriber: string): Promise<SubscriptionRow[]> {
    return q.query<SubscriptionRow>(
      `SELECT ${COLUMNS} FROM notification_subscriptions WHERE subscriber = $1 ORDER BY created_ts, uuid`,
      [subscriber],
    );
  }

  async confirm(q: Queryable, uuid: string, now: number): Promise<SubscriptionRow> {
    const [row] = await q.query<SubscriptionRow>(
      `UPDATE notification_subscriptions SET status = 'active', confirmation_due = false, updated_ts = $2
        WHERE uuid = $1 RETURNING ${COLUMNS}`,
      [uuid, now],
    );
    return row;
  }

  /**
   * Extends validity; a pending subscription gets its confirmation sent again, a suspended one resumes where it
   * stopped (its kept messages are retried at once).
   */
  async refresh(
    q: Queryable,
    uuid: string,
    validityTs: number,
    hashKeySealed: Buffer | null | undefined,
    now: number,
  ): Promise<SubscriptionRow> {
    const [row] = await q.query<SubscriptionRow>(
      `UPDATE notification_subscriptions SET validity_ts = $2,
         hash_key_sealed = CASE WHEN $3::boolean THEN $4 ELSE hash_key_sealed END,
         confirmation_due = (status = 'pending'),
         status = CASE WHEN status IN ('suspended', 'expired') THEN 'active' ELSE status END,
         failures = CASE WHEN status = 'suspended' THEN 0 ELSE failures END,
         failing_since = CASE WHEN status = 'suspended' THEN NULL ELSE failing_since END,
         next_attempt_ts = 0, updated_ts = $5
        WHERE uuid = $1 RETURNING ${COLUMNS}`,
      [uuid, validityTs, hashKeySealed !== undefined, hashKeySealed ?? null, now],
    );
    return row;
  }

  /** Ends subscriptions and drops the messages they still had queued (the outbox stays bounded). */
  async end(
    q: Queryable,
    where: { uuid: string } | { account: string; topic: string },
    now: number,
  ): Promise<void> {
    const [filter, params] =
      'uuid' in where
        ? ['uuid = $1', [where.uuid]]
        : ['account = $1 AND topic = $2', [where.account, where.topic]];
    const ended = await q.query<{ uuid: string }>(
      `UPDATE notification_subscriptions SET status = 'ended', confirmation_due = false, updated_ts = $${params.length + 1}
        WHERE ${filter} AND status <> 'ended' RETURNING uuid`,
      [...params, now],
    );
    if (ended.length > 0)
      await q.query('DELETE FROM notification_messages WHERE subscription = ANY($1::uuid[])', [
        ended.map((r) => r.uuid),
      ]);
  }

  /**
   * Waits (polling, at most `timeoutMs`) until no worker holds the subscription's delivery lease. The lease is the
   * worker's (delivery columns); this only reads it.
   */
  async awaitNoDelivery(q: Queryable, uuid: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [row] = await q.query<{ busy: boolean }>(
        `SELECT lease_until > extract(epoch FROM clock_timestamp()) AS busy FROM notification_subscriptions
          WHERE uuid = $1`,
        [uuid],
      );
      if (!row?.busy || Date.now() >= deadline) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Wakes the worker's delivery loop at commit (a confirmation to send, a resumed subscription). */
  async wakeDelivery(q: Queryable): Promise<void> {
    await q.query(`SELECT pg_notify('twindex_outbox', 'deliver')`);
  }
}
