import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { Agent, fetch as undiciFetch } from 'undici';
import { nowSeconds } from '../../../libs/clock/clock.js';
import { CONFIG, type TwindexConfig } from '../../../libs/config/index.js';
import { Db } from '../../../libs/store/db.js';
import { credentialContext } from '../../../libs/sync/credential-context.js';
import { PushIntakeToken } from '../../../libs/sync/push-intake-token.js';
import { pushKeyContext } from '../../../libs/sync/push-keys.js';
import { SecretBox } from '../../../libs/sync/secret-box.js';
import { type SyncSource, SyncSourcesRepository } from '../../../libs/sync/sync-sources.repository.js';
import { UpstreamAddressPolicy } from '../../../libs/sync/upstream-address.js';

const TICK_MS = 60_000;
/** A subscription is renewed a day before it ends (they last 7 days); the old one lapses on its own meanwhile. */
const RENEW_BEFORE_SECONDS = 24 * 3600;
const REQUEST_TIMEOUT_MS = 10_000;

/**
 * Edge mirrors by push (docs/notifications.md "Edge mirrors"): for each enabled source with `subscribe.topic`, keeps a
 * live subscription of this deployment's webhook intake (PUBLIC_URL + the source's webhook path, with a token derived
 * for it) to that topic of the upstream, subscribing again a day before the current one ends. The intake confirms the
 * subscription when the upstream's confirmation arrives, and turns each message into a sync of its twin. Messages are
 * hints: the scheduled sync stays the safety net. Renewing instead of refreshing means no upstream token is stored;
 * two subscriptions overlap for a day, and a repeated message only repeats an idempotent sync.
 */
@Injectable()
export class UpstreamPush implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('sync-push');
  private readonly box: SecretBox | undefined;
  private readonly token: PushIntakeToken | undefined;
  private readonly agent: Agent;
  private readonly addresses: UpstreamAddressPolicy;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private warnedNoPublicUrl = false;

  constructor(
    @Inject(CONFIG) private readonly config: TwindexConfig,
    private readonly db: Db,
    private readonly sources: SyncSourcesRepository,
  ) {
    this.box = config.TWINDEX_SECRET_KEY ? new SecretBox(config.TWINDEX_SECRET_KEY) : undefined;
    this.token = config.TWINDEX_SECRET_KEY ? new PushIntakeToken(config.TWINDEX_SECRET_KEY) : undefined;
    this.addresses = UpstreamAddressPolicy.fromList(config.SYNC_ALLOWED_HOSTS);
    this.agent = new Agent({ connect: { lookup: this.addresses.lookup } });
  }

  onApplicationBootstrap(): void {
    const run = () => {
      if (this.running) return;
      this.running = this.tick()
        .catch((e: unknown) => this.logger.warn(`push subscriptions not renewed: ${(e as Error).message}`))
        .finally(() => (this.running = undefined));
    };
    run();
    this.timer = setInterval(run, TICK_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
    await this.agent.close().catch(() => undefined);
  }

  async tick(now = nowSeconds()): Promise<void> {
    const wanted = (await this.sources.listAll()).filter((s) => s.enabled && s.subscribeTopic !== null);
    if (wanted.length === 0) return;
    if (!this.config.PUBLIC_URL || !this.box || !this.token) {
      if (!this.warnedNoPublicUrl)
        this.logger.warn(
          'sources ask for push subscriptions, but PUBLIC_URL or TWINDEX_SECRET_KEY is not set',
        );
      this.warnedNoPublicUrl = true;
      return;
    }
    for (const source of wanted) {
      const [live] = await this.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM sync_source_push WHERE source = $1 AND topic = $2 AND validity_ts > $3`,
        [source.uuid, source.subscribeTopic, now + RENEW_BEFORE_SECONDS],
      );
      if (live.n > 0) continue;
      await this.subscribe(source, now).catch((e: unknown) =>
        this.logger.warn(`source ${source.uuid}: push subscription failed: ${(e as Error).message}`),
      );
    }
  }

  private async subscribe(source: SyncSource, now: number): Promise<void> {
    const withSecret = await this.sources.getWithSecret(source.uuid);
    if (!withSecret) return;
    const secret = this.box!.open(withSecret.secretEncrypted, credentialContext(source.uuid, source.baseUrl));
    const base = this.config.PUBLIC_URL!.replace(/\/+$/, '');
    const clientSecret = randomBytes(12).toString('base64url');
    const callback = `${base}/sync/sources/${source.uuid}/webhook?token=${encodeURIComponent(this.token!.for(source.uuid))}`;
    const url = new URL(
      'notifications/webhooks',
      source.baseUrl.endsWith('/') ? source.baseUrl : `${source.baseUrl}/`,
    );
    this.addresses.checkLiteral(url);
    const res = await undiciFetch(url, {
      method: 'POST',
      headers: { authorization: secret, 'content-type': 'application/json' },
      // With a client_secret every message carries a hash the intake verifies (libs/sync/push-keys.ts).
      body: JSON.stringify({
        callback_url: callback,
        topic: source.subscribeTopic,
        client_secret: clientSecret,
      }),
      redirect: 'manual',
      dispatcher: this.agent,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const answer = (await res.json().catch(() => undefined)) as
      { subscription?: { validity_ts?: unknown }; server_secret?: unknown } | undefined;
    if (res.status !== 201) throw new Error(`upstream answered ${res.status}`);
    const validity = Number(answer?.subscription?.validity_ts);
    const serverSecret = answer?.server_secret;
    const sealed =
      typeof serverSecret === 'string'
        ? this.box!.seal(clientSecret + serverSecret, pushKeyContext(source.uuid))
        : null;
    await this.db.query(
      `INSERT INTO sync_source_push (source, topic, subscribed_ts, validity_ts, hash_key_sealed)
       VALUES ($1, $2, $3, $4, $5)`,
      [
        source.uuid,
        source.subscribeTopic,
        now,
        Number.isFinite(validity) ? validity : now + 7 * 24 * 3600,
        sealed,
      ],
    );
    this.logger.log(`source ${source.uuid}: subscribed to upstream topic '${source.subscribeTopic}'`);
  }
}
