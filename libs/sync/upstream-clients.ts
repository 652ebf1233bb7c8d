import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Agent } from 'undici';
import { CONFIG, type TwindexConfig } from '../config/index.js';
import { SecretBox } from './secret-box.js';
import { SourceLimiter } from '../admission/source-limiter.js';
import { SYNC_OPTIONS, type SyncOptions } from './sync-options.js';
import type { SyncSourceWithSecret } from './sync-sources.repository.js';
import { UpstreamAddressPolicy } from './upstream-address.js';
import { type UpstreamBodyLimits, UpstreamClient, UpstreamError } from './upstream-client.js';
import { credentialContext } from './credential-context.js';

/**
 * Upstream clients per source. Every client of one source shares that source's limiter, so the concurrency and
 * rate bounds hold across all the jobs of this worker process (N worker processes: N times the bound).
 */
@Injectable()
export class UpstreamClients implements OnApplicationShutdown {
  private readonly limiters = new Map<string, SourceLimiter>();
  private readonly box: SecretBox | undefined;
  private readonly addresses: UpstreamAddressPolicy;
  /** Every upstream connection resolves through the SSRF guard, and connects to the address it checked. */
  private readonly dispatcher: Agent;
  private readonly limits: UpstreamBodyLimits;

  constructor(
    @Inject(CONFIG) config: TwindexConfig,
    @Inject(SYNC_OPTIONS) private readonly options: SyncOptions,
  ) {
    this.box = config.TWINDEX_SECRET_KEY ? new SecretBox(config.TWINDEX_SECRET_KEY) : undefined;
    this.addresses = UpstreamAddressPolicy.fromList(config.SYNC_ALLOWED_HOSTS);
    this.dispatcher = new Agent({ connect: { lookup: this.addresses.lookup } });
    this.limits = {
      maxPageBytes: config.SYNC_MAX_PAGE_BYTES,
      maxIdentityListBytes: config.SYNC_MAX_IDENTITY_LIST_BYTES,
      maxIdentitiesPerTwin: config.SYNC_MAX_IDENTITIES_PER_TWIN,
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.dispatcher.close().catch(() => undefined);
  }

  /** A fresh client (its own retry count) over the source's shared limiter. */
  clientFor(source: SyncSourceWithSecret): UpstreamClient {
    if (!this.box)
      throw new UpstreamError('TWINDEX_SECRET_KEY is not set: the source secret cannot be read', false);
    let secret: string;
    try {
      // Sealed with the origin it was given for: a base_url moved elsewhere cannot open it.
      secret = this.box.open(source.secretEncrypted, credentialContext(source.uuid, source.baseUrl));
    } catch {
      throw new UpstreamError(
        'The source secret does not open for this base_url (moved without a new secret) or this TWINDEX_SECRET_KEY',
        false,
      );
    }
    return new UpstreamClient({
      baseUrl: source.baseUrl,
      secret,
      addresses: this.addresses,
      dispatcher: this.dispatcher,
      limiter: this.limiterFor(source),
      policy: this.options.callPolicy,
      limits: this.limits,
    });
  }

  private limiterFor(source: SyncSourceWithSecret): SourceLimiter {
    const existing = this.limiters.get(source.uuid);
    if (
      existing &&
      existing.limits.concurrency === source.maxConcurrency &&
      existing.limits.ratePerSecond === source.maxRate
    ) {
      return existing;
    }
    const limiter = new SourceLimiter({ concurrency: source.maxConcurrency, ratePerSecond: source.maxRate });
    this.limiters.set(source.uuid, limiter);
    return limiter;
  }
}
