import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { nowSeconds } from '../../../libs/clock/clock.js';
import { CONFIG, type TwindexConfig } from '../../../libs/config/index.js';
import { badRequest, forbidden, notFound, TwindexError } from '../../../libs/domain/errors.js';
import { normalizeUuid } from '../../../libs/domain/identity/uuid.js';
import { parseSubscriptionToken } from '../../../libs/domain/notifications/subscription-token.js';
import {
  MAX_SUBSCRIPTIONS_PER_ACCOUNT,
  TOPIC_NAME_PATTERN,
} from '../../../libs/domain/notifications/topic.js';
import { GrantsRepository } from '../../../libs/notifications/grants.repository.js';
import { SubscriptionSecrets } from '../../../libs/notifications/subscription-secrets.js';
import { publicBase, subscriptionUrl } from '../../../libs/notifications/subscription-urls.js';
import {
  type SubscriptionRow,
  SubscriptionsRepository,
} from '../../../libs/notifications/subscriptions.repository.js';
import { TopicsRepository } from '../../../libs/notifications/topics.repository.js';
import { Db } from '../../../libs/store/db.js';
import { AddressRefused, UpstreamAddressPolicy } from '../../../libs/sync/upstream-address.js';
import { MAX_EXPIRES_SECONDS, type RefreshInput, type SubscribeInput } from './notification-bodies.js';

export interface SubscriptionRef {
  topic: string;
  account: string;
  validity_ts: number;
}

/** A POST in flight ends within its 5 s timeout; a worker that died leaves a lease that is not waited out. */
const UNSUBSCRIBE_WAIT_MS = 6_000;

export interface TokenAnswer {
  /** The subscription's id, for the service's own use (not part of the answer). */
  uuid: string;
  subscription: SubscriptionRef;
  callback_url: string;
  unsubscribe_url: string;
  refresh_url: string;
}

export interface SubscriptionListing {
  uuid: string;
  topic: string;
  account: string;
  callback_url: string;
  status: string;
  validity_ts: number;
  max_batch: number | null;
  hashed: boolean;
  failures: number;
  last_error: string | null;
  last_delivery_ts: number | null;
  created_ts: number;
  updated_ts: number;
}

const ref = (s: SubscriptionRow): SubscriptionRef => ({
  topic: s.topic,
  account: s.account,
  validity_ts: s.validity_ts,
});

/** Every token failure answers alike: which part was wrong is not told. */
const unknownToken = () => notFound('Subscription');

/**
 * Trusted Twin's subscribe / confirm / refresh / unsubscribe (docs/notifications.md "Subscribing"). The API only
 * records; the worker sends the confirmation and the messages (woken at commit by pg_notify).
 */
@Injectable()
export class SubscriptionsService {
  private readonly secrets: SubscriptionSecrets | undefined;
  private readonly addresses: UpstreamAddressPolicy;
  private readonly base: string;

  constructor(
    @Inject(CONFIG) config: TwindexConfig,
    private readonly db: Db,
    private readonly topics: TopicsRepository,
    private readonly grants: GrantsRepository,
    private readonly subscriptions: SubscriptionsRepository,
  ) {
    this.secrets = config.TWINDEX_SECRET_KEY ? new SubscriptionSecrets(config.TWINDEX_SECRET_KEY) : undefined;
    // The same guard and allow list as sync sources: a callback is a request Twindex makes on a tenant's behalf.
    this.addresses = UpstreamAddressPolicy.fromList(config.SYNC_ALLOWED_HOSTS);
    this.base = publicBase(config);
  }

  async subscribe(
    subscriber: string,
    input: SubscribeInput,
  ): Promise<{ subscription: SubscriptionRef; callback_url: string; server_secret?: string }> {
    const secrets = this.requireSecrets();
    const publisher = input.account === undefined ? subscriber : normalizeUuid(input.account);
    // A malformed account or topic answers like a topic that is not there.
    if (publisher === null || !TOPIC_NAME_PATTERN.test(input.topic)) throw noSuchTopic();
    await this.checkCallback(input.callback_url);
    const uuid = randomUUID();
    const nonce = SubscriptionSecrets.newNonce();
    const token = secrets.token(uuid, publisher, nonce);
    const serverSecret = input.client_secret ? SubscriptionSecrets.newServerSecret() : undefined;
    const now = nowSeconds();
    const row = await this.db.transaction(async (tx) => {
      const topic = await this.topics.get(tx, publisher, input.topic);
      const allowed =
        topic !== undefined &&
        (publisher === subscriber || (await this.grants.grants(tx, publisher, subscriber, input.topic)));
      if (!allowed) throw noSuchTopic();
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
        `notification-subscriptions:${subscriber}`,
      ]);
      if ((await this.subscriptions.countLive(tx, subscriber)) >= MAX_SUBSCRIPTIONS_PER_ACCOUNT)
        throw badRequest(
          'limit_exceeded',
          `An account may hold at most ${MAX_SUBSCRIPTIONS_PER_ACCOUNT} subscriptions`,
        );
      const created = await this.subscriptions.insert(tx, {
        uuid,
        account: publisher,
        topic: input.topic,
        subscriber,
        callbackUrl: input.callback_url,
        tokenHash: SubscriptionSecrets.tokenHash(token),
        tokenNonce: nonce,
        hashKeySealed:
          input.client_secret && serverSecret
            ? secrets.sealHashKey(uuid, input.client_secret, serverSecret)
            : null,
        maxBatch: input.max_batch ?? null,
        validityTs: now + (input.expires ?? MAX_EXPIRES_SECONDS),
        now,
      });
      await this.subscriptions.wakeDelivery(tx);
      return created;
    });
    return {
      subscription: ref(row),
      callback_url: row.callback_url,
      ...(serverSecret ? { server_secret: serverSecret } : {}),
    };
  }

  /** Deliveries start. Confirming twice is harmless. */
  async confirm(account: string, token: string | undefined): Promise<Omit<TokenAnswer, 'uuid'>> {
    return withoutUuid(
      await this.withToken(account, token, async (tx, row) => {
        const out =
          row.status === 'pending' ? await this.subscriptions.confirm(tx, row.uuid, nowSeconds()) : row;
        await this.subscriptions.wakeDelivery(tx);
        return out;
      }),
    );
  }

  async refresh(
    account: string,
    token: string | undefined,
    input: RefreshInput,
  ): Promise<Omit<TokenAnswer, 'uuid'>> {
    const secrets = this.requireSecrets();
    return withoutUuid(
      await this.withToken(account, token, async (tx, row) => {
        const now = nowSeconds();
        let sealed: Buffer | null | undefined;
        if (input.client_secret !== undefined) {
          // The server secret stays; only the subscriber's half of the key changes.
          const serverSecret = row.hash_key_sealed
            ? secrets.openHashKey(row.uuid, row.hash_key_sealed).serverSecret
            : undefined;
          if (serverSecret === undefined)
            throw badRequest('invalid_body', 'client_secret: this subscription was made without one');
          sealed = secrets.sealHashKey(row.uuid, input.client_secret, serverSecret);
        }
        const out = await this.subscriptions.refresh(
          tx,
          row.uuid,
          now + (input.expires ?? MAX_EXPIRES_SECONDS),
          sealed,
          now,
        );
        await this.subscriptions.wakeDelivery(tx);
        return out;
      }),
    );
  }

  /**
   * Ends the subscription and drops what it had queued. Answers once no worker is sending for it any more: a worker
   * checks the status before every POST, so after its lease is given back nothing more arrives at the callback.
   */
  async unsubscribe(account: string, token: string | undefined): Promise<{ subscription: SubscriptionRef }> {
    const answer = await this.withToken(account, token, async (tx, row) => {
      await this.subscriptions.end(tx, { uuid: row.uuid }, nowSeconds());
      return row;
    });
    await this.subscriptions.awaitNoDelivery(this.db, answer.uuid, UNSUBSCRIBE_WAIT_MS);
    return { subscription: answer.subscription };
  }

  async list(subscriber: string): Promise<{ subscriptions: SubscriptionListing[] }> {
    const rows = await this.subscriptions.listBySubscriber(this.db, subscriber);
    return {
      subscriptions: rows.map((s) => ({
        uuid: s.uuid,
        topic: s.topic,
        account: s.account,
        callback_url: s.callback_url,
        status: s.status,
        validity_ts: s.validity_ts,
        max_batch: s.max_batch,
        hashed: s.hash_key_sealed !== null,
        failures: s.failures,
        last_error: s.last_error,
        last_delivery_ts: s.last_delivery_ts,
        created_ts: s.created_ts,
        updated_ts: s.updated_ts,
      })),
    };
  }

  async access(account: string): Promise<{ accounts: Record<string, { topics: string[] }> }> {
    const rows = await this.grants.list(this.db, account);
    return { accounts: Object.fromEntries(rows.map((g) => [g.grantee, { topics: g.topics }])) };
  }

  async updateAccess(account: string, grantee: string, topics: string[]): Promise<{ topics: string[] }> {
    for (const t of topics)
      if (!TOPIC_NAME_PATTERN.test(t))
        throw badRequest('invalid_topic', `Topic name must match ${TOPIC_NAME_PATTERN.source}`);
    const unique = [...new Set(topics)];
    await this.grants.set(this.db, account, grantee, unique, nowSeconds());
    return { topics: unique };
  }

  /**
   * Finds the subscription a token names and runs `work` on it in a transaction (row locked). The token must parse,
   * name the path's account, carry this deployment's mac (constant-time) and hash to a stored subscription that
   * has not ended; every failure throws the same 404, which the controller counts against the caller's address.
   */
  private async withToken(
    account: string,
    token: string | undefined,
    work: (
      tx: Parameters<Parameters<Db['transaction']>[0]>[0],
      row: SubscriptionRow,
    ) => Promise<SubscriptionRow>,
  ): Promise<TokenAnswer> {
    const secrets = this.requireSecrets();
    const parts = parseSubscriptionToken(token);
    if (!parts || parts.account !== normalizeUuid(account) || !secrets.macMatches(parts))
      throw unknownToken();
    const presented = token as string;
    const row = await this.db.transaction(async (tx) => {
      const found = await this.subscriptions.byTokenHash(tx, SubscriptionSecrets.tokenHash(presented));
      if (!found || found.status === 'ended' || found.uuid !== parts.subscription) throw unknownToken();
      return work(tx, found);
    });
    const url = subscriptionUrl(this.base, row.account, presented);
    return {
      uuid: row.uuid,
      subscription: ref(row),
      callback_url: row.callback_url,
      unsubscribe_url: url,
      refresh_url: url,
    };
  }

  private async checkCallback(url: string): Promise<void> {
    try {
      await this.addresses.checkUrl(url);
    } catch (e) {
      if (e instanceof AddressRefused) throw badRequest('forbidden_address', `callback_url: ${e.message}`);
      throw e;
    }
  }

  private requireSecrets(): SubscriptionSecrets {
    if (!this.secrets)
      throw new TwindexError(
        'unavailable',
        'notifications_not_configured',
        'TWINDEX_SECRET_KEY is not set: notification subscriptions are unavailable',
      );
    return this.secrets;
  }
}

function withoutUuid({ uuid: _uuid, ...answer }: TokenAnswer): Omit<TokenAnswer, 'uuid'> {
  return answer;
}

function noSuchTopic(): TwindexError {
  return forbidden('The topic does not exist or is not granted to this account');
}
