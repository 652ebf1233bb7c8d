import { Inject, Injectable } from '@nestjs/common';
import { CONFIG, type TwindexConfig } from '../config/index.js';
import { SecretBox } from './secret-box.js';
import { SourceLimiter } from './source-limiter.js';
import { SYNC_OPTIONS, type SyncOptions } from './sync-options.js';
import type { SyncSourceWithSecret } from './sync-sources.repository.js';
import { UpstreamClient, UpstreamError } from './upstream-client.js';

/**
 * Upstream clients per source. Every client of one source shares that source's limiter, so the concurrency and
 * rate bounds hold across all the jobs of this worker process (N worker processes: N times the bound).
 */
@Injectable()
export class UpstreamClients {
  private readonly limiters = new Map<string, SourceLimiter>();
  private readonly box: SecretBox | undefined;

  constructor(
    @Inject(CONFIG) config: TwindexConfig,
    @Inject(SYNC_OPTIONS) private readonly options: SyncOptions,
  ) {
    this.box = config.TWINDEX_SECRET_KEY ? new SecretBox(config.TWINDEX_SECRET_KEY) : undefined;
  }

  /** A fresh client (its own retry count) over the source's shared limiter. */
  clientFor(source: SyncSourceWithSecret): UpstreamClient {
    if (!this.box)
      throw new UpstreamError('TWINDEX_SECRET_KEY is not set: the source secret cannot be read', false);
    let secret: string;
    try {
      secret = this.box.open(source.secretEncrypted, source.uuid);
    } catch {
      throw new UpstreamError('The source secret does not decrypt with TWINDEX_SECRET_KEY', false);
    }
    return new UpstreamClient({
      baseUrl: source.baseUrl,
      secret,
      limiter: this.limiterFor(source),
      policy: this.options.callPolicy,
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
