import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { CONFIG, type TwindexConfig } from '../../../libs/config/index.js';
import { badRequest, notFound, TwindexError, unauthorized } from '../../../libs/domain/errors.js';
import { normalizeUuid } from '../../../libs/domain/identity/uuid.js';
import type { SyncMode } from '../../../libs/queue/job-catalogue.js';
import { SyncProducer, WEBHOOK_DEBOUNCE_MS } from '../../../libs/queue/sync-producer.js';
import { Db } from '../../../libs/store/db.js';
import { SecretBox } from '../../../libs/sync/secret-box.js';
import { credentialContext } from '../../../libs/sync/credential-context.js';
import { AddressRefused, UpstreamAddressPolicy } from '../../../libs/sync/upstream-address.js';
import { confirmationUrlIn, UpstreamConfirmation } from '../../../libs/sync/upstream-confirmation.js';
import { PushIntakeToken } from '../../../libs/sync/push-intake-token.js';
import { hashesVerify, livePushKeys } from '../../../libs/sync/push-keys.js';
import { SyncRunsRepository } from '../../../libs/sync/sync-runs.repository.js';
import { type SyncSource, SyncSourcesRepository } from '../../../libs/sync/sync-sources.repository.js';
import type { CreateSourceInput, UpdateSourceInput } from './source-body.js';
import { type RunView, runView, type SourceView, sourceView } from './sync-views.js';
import { nowSeconds } from '../../../libs/clock/clock.js';

/** Queue calls made inside a request give up after this; the request answers 503. */
const QUEUE_TIMEOUT_MS = 5_000;
const DEFAULT_MAX_CONCURRENCY = 8;
const DEFAULT_MAX_RATE = 100;

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();

@Injectable()
export class SyncSourcesService implements OnApplicationShutdown {
  private readonly logger = new Logger('sync');
  private readonly box: SecretBox | undefined;
  private readonly addresses: UpstreamAddressPolicy;
  private readonly confirmation: UpstreamConfirmation;
  private readonly pushToken: PushIntakeToken | undefined;

  constructor(
    @Inject(CONFIG) private readonly config: TwindexConfig,
    private readonly db: Db,
    private readonly sources: SyncSourcesRepository,
    private readonly runs: SyncRunsRepository,
    private readonly producer: SyncProducer,
  ) {
    this.box = config.TWINDEX_SECRET_KEY ? new SecretBox(config.TWINDEX_SECRET_KEY) : undefined;
    this.addresses = UpstreamAddressPolicy.fromList(config.SYNC_ALLOWED_HOSTS);
    this.confirmation = new UpstreamConfirmation(this.addresses);
    this.pushToken = config.TWINDEX_SECRET_KEY ? new PushIntakeToken(config.TWINDEX_SECRET_KEY) : undefined;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.confirmation.close();
  }

  async create(account: string, input: CreateSourceInput): Promise<SourceView & { webhook_token: string }> {
    const box = this.secretBox();
    await this.checkAddress(input.base_url);
    const uuid = randomUUID();
    const webhookToken = `twh_${randomBytes(32).toString('base64url')}`;
    const source = await this.db.transaction(async (tx) => {
      const created = await this.sources.insert(tx, {
        uuid,
        account,
        name: input.name,
        baseUrl: input.base_url,
        schedule: input.schedule ?? null,
        includeForeign: input.include_foreign ?? false,
        enabled: input.enabled ?? true,
        maxConcurrency: input.max_concurrency ?? DEFAULT_MAX_CONCURRENCY,
        maxRate: input.max_rate ?? DEFAULT_MAX_RATE,
        subscribeTopic: input.subscribe?.topic ?? null,
        createdTs: nowSeconds(),
        updatedTs: nowSeconds(),
        secretEncrypted: box.seal(input.secret, credentialContext(uuid, input.base_url)),
        webhookTokenHash: sha256(webhookToken),
      });
      // Inside the transaction: a source whose schedule could not be registered is not created.
      await this.applySchedule(created);
      return created;
    });
    return { ...sourceView(source), webhook_token: webhookToken };
  }

  async list(account: string): Promise<SourceView[]> {
    return (await this.sources.list(account)).map(sourceView);
  }

  async get(account: string, uuid: string): Promise<SourceView> {
    return sourceView(await this.found(account, uuid));
  }

  async update(account: string, uuid: string, input: UpdateSourceInput): Promise<SourceView> {
    const current = await this.found(account, uuid);
    const baseUrl = input.base_url ?? current.baseUrl;
    if (input.base_url !== undefined) {
      await this.checkAddress(input.base_url);
      // The stored secret is bound to its origin: moving the source elsewhere takes the secret again.
      if (input.secret === undefined && new URL(input.base_url).origin !== new URL(current.baseUrl).origin) {
        throw badRequest(
          'secret_required',
          'Changing base_url to another origin requires the secret again (the stored one is never sent elsewhere)',
        );
      }
    }
    const sealed =
      input.secret === undefined
        ? undefined
        : this.secretBox().seal(input.secret, credentialContext(uuid, baseUrl));
    const source = await this.db.transaction(async (tx) => {
      const updated = await this.sources.update(
        tx,
        account,
        uuid,
        {
          name: input.name,
          baseUrl: input.base_url,
          secretEncrypted: sealed,
          schedule: input.schedule,
          includeForeign: input.include_foreign,
          enabled: input.enabled,
          maxConcurrency: input.max_concurrency,
          maxRate: input.max_rate,
          subscribeTopic: input.subscribe === undefined ? undefined : (input.subscribe?.topic ?? null),
        },
        nowSeconds(),
      );
      if (!updated) throw notFound('Sync source');
      await this.applySchedule(updated);
      return updated;
    });
    return sourceView(source);
  }

  /** Deletes the source and every row it wrote. */
  async delete(account: string, uuid: string): Promise<SourceView> {
    const deleted = await this.db.transaction((tx) => this.sources.delete(tx, account, uuid));
    if (!deleted) throw notFound('Sync source');
    // Best effort: a scheduler left behind finds no source (its job does nothing) and the worker removes it at start.
    await this.queue(this.producer.removeSchedule(uuid)).catch((e: unknown) =>
      this.logger.warn(`scheduler of deleted source ${uuid} not removed: ${(e as Error).message}`),
    );
    return sourceView(deleted);
  }

  async startRun(account: string, uuid: string, mode: SyncMode): Promise<RunView> {
    const source = await this.found(account, uuid);
    if (!source.enabled)
      throw badRequest('sync_source_disabled', 'The sync source is disabled; enable it first');
    const run = await this.runs.create(this.db, {
      uuid: randomUUID(),
      source: uuid,
      account,
      mode,
      trigger: 'api',
      nowTs: nowSeconds(),
    });
    // After the commit: a worker may pick the job up at once and must find the run.
    try {
      await this.queue(this.producer.enqueueRun(uuid, run.uuid, mode, account));
    } catch (e) {
      await this.runs.discard(run.uuid);
      throw e;
    }
    return runView(run);
  }

  async listRuns(account: string, options: { source?: string; limit: number }): Promise<RunView[]> {
    if (options.source !== undefined) await this.found(account, options.source);
    return (await this.runs.list(account, options)).map(runView);
  }

  async getRun(account: string, uuid: string): Promise<RunView> {
    const run = await this.runs.get(uuid, account);
    if (!run) throw notFound('Sync run');
    return runView(run);
  }

  /**
   * Upstream events: checks the token in constant time (an unknown source answers like a wrong token), then queues
   * one debounced sync per named twin. A disabled source accepts events and ignores them.
   */
  async webhook(rawId: string, token: string | undefined, body: unknown): Promise<{ queued: number }> {
    const uuid = normalizeUuid(rawId);
    const stored = uuid === null ? undefined : await this.sources.webhookTokenHash(uuid);
    const given = sha256(typeof token === 'string' ? token : '');
    const expected = stored?.hash ?? sha256(randomUUID());
    const pushed =
      uuid !== null && typeof token === 'string' && this.pushToken?.matches(uuid, token) === true;
    const tokenOk = timingSafeEqual(given, expected) || pushed;
    if (!tokenOk || !stored || uuid === null || !token) {
      throw unauthorized('Missing or wrong X-Webhook-Token');
    }
    // Messages of the source's own push subscriptions carry a hash: each must verify (a forged one is refused).
    if (this.box && !hashesVerify(body, await livePushKeys(this.db, this.box, uuid, nowSeconds())))
      throw badRequest(
        'invalid_hash',
        "A message's hash does not verify with this source's push subscriptions",
      );
    const confirmationUrl = confirmationUrlIn(body);
    if (confirmationUrl !== undefined) {
      await this.confirmUpstream(stored.baseUrl, confirmationUrl);
      return { queued: 0 };
    }
    const twins = twinsNamedBy(body);
    if (twins.length === 0) {
      throw badRequest(
        'invalid_body',
        'The body must be an event object, or an array of them, naming a twin UUID',
      );
    }
    if (!stored.enabled) return { queued: 0 };
    // Beyond the source's or the account's pending cap the whole event is refused (429 backlog_full, nothing
    // queued) rather than folded into a later run: the sender keeps the event and retries, nothing is lost silently.
    await this.queue(
      this.producer.enqueueTwins(uuid, twins, {
        account: stored.account,
        // A push message (the source's own subscription) comes from an outbox that sends a twin's changes in order,
        // at once: a short window still folds its burst, and the mirror is not held back by the half second.
        delayMs: pushed ? this.config.SYNC_PUSH_DEBOUNCE_MS : WEBHOOK_DEBOUNCE_MS,
        capped: true,
      }),
    );
    return { queued: twins.length };
  }

  /**
   * An upstream's subscription confirmation reached the intake (an edge mirror subscribed to it with this intake as
   * callback): confirmed at once, on the upstream's own origin only. A failure answers 503, so the upstream retries.
   */
  private async confirmUpstream(baseUrl: string, url: string): Promise<void> {
    if (!UpstreamConfirmation.sameOrigin(url, baseUrl))
      throw badRequest('invalid_body', "confirmation_url is not on this source's base_url origin");
    let status: number;
    try {
      status = await this.confirmation.confirm(url);
    } catch (e) {
      this.logger.warn(`upstream subscription not confirmed: ${(e as Error).message}`);
      status = 0;
    }
    if (status < 200 || status >= 300)
      throw new TwindexError(
        'unavailable',
        'upstream_unavailable',
        'The upstream did not take the confirmation',
      );
  }

  private async found(account: string, uuid: string): Promise<SyncSource> {
    const source = await this.sources.get(account, uuid);
    if (!source) throw notFound('Sync source');
    return source;
  }

  /** SSRF guard at creation and update (the worker checks again at every connection). */
  private async checkAddress(baseUrl: string): Promise<void> {
    try {
      await this.addresses.checkUrl(baseUrl);
    } catch (e) {
      if (e instanceof AddressRefused) throw badRequest('forbidden_address', `base_url: ${e.message}`);
      throw e;
    }
  }

  private secretBox(): SecretBox {
    if (!this.box) {
      throw new TwindexError(
        'unavailable',
        'sync_not_configured',
        'TWINDEX_SECRET_KEY is not set: sync sources are unavailable',
      );
    }
    return this.box;
  }

  private async applySchedule(source: SyncSource): Promise<void> {
    if (source.enabled && source.schedule !== null) {
      await this.queue(this.producer.upsertSchedule(source.uuid, source.schedule, source.account));
    } else {
      await this.queue(this.producer.removeSchedule(source.uuid));
    }
  }

  /** Redis unreachable or too slow: 503, the request changed nothing (callers run this inside their transaction). */
  private async queue<T>(work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timed out')), QUEUE_TIMEOUT_MS);
    });
    try {
      return await Promise.race([work, timeout]);
    } catch (e) {
      // An answer of the queue's own (a full backlog) is the client's; anything else means Redis is not there.
      if (e instanceof TwindexError) throw e;
      this.logger.warn(`queue unavailable: ${(e as Error).message}`);
      throw new TwindexError('unavailable', 'queue_unavailable', 'The job queue (Redis) is unreachable');
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The distinct twin UUIDs named by one event object or an array of them; events naming none are ignored. */
export function twinsNamedBy(body: unknown): string[] {
  // A Twindex batch (`max_batch`): {"type": "Notifications", "notifications": [message, …]}.
  const batch = (body as { notifications?: unknown } | null)?.notifications;
  const events = Array.isArray(body) ? body : Array.isArray(batch) ? batch : [body];
  const twins = new Set<string>();
  for (const event of events) {
    if (typeof event !== 'object' || event === null || Array.isArray(event)) continue;
    const twin = normalizeUuid((event as { twin?: unknown }).twin);
    if (twin !== null) twins.add(twin);
  }
  return [...twins];
}
