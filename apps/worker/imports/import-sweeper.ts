import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { nowSeconds } from '../../../libs/clock/clock.js';
import { ImportProducer } from '../../../libs/imports/import-producer.js';
import { ImportsRepository } from '../../../libs/imports/imports.repository.js';

/** An unfinished import younger than this may still be between its commit and its enqueue: left alone. */
export const IMPORT_REQUEUE_AFTER_SECONDS = 30;
const SWEEP_EVERY_MS = 60_000;
const SWEEP_BATCH = 500;

/**
 * Nothing stays `queued` for good: at worker start and every minute, imports still queued or running without a
 * live merge job (Redis lost it, or the API died between storing and enqueueing) are queued again, and staged
 * rows of finished imports are removed. The merge restarts from the first row; its upserts make that safe.
 */
@Injectable()
export class ImportSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('import-sweep');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly imports: ImportsRepository,
    private readonly producer: ImportProducer,
  ) {}

  onApplicationBootstrap(): void {
    this.kick();
    this.timer = setInterval(() => this.kick(), SWEEP_EVERY_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  private kick(): void {
    if (this.running) return;
    this.running = this.sweep()
      .then(() => undefined)
      .catch((e: unknown) => this.logger.warn(`import sweep failed: ${(e as Error).message}`))
      .finally(() => (this.running = undefined));
  }

  /** One pass; answers how many imports were queued again. */
  async sweep(nowTs = nowSeconds()): Promise<number> {
    let requeued = 0;
    for (const { uuid, account } of await this.imports.unfinished(
      nowTs - IMPORT_REQUEUE_AFTER_SECONDS,
      SWEEP_BATCH,
    )) {
      if (await this.producer.requeue(uuid, account)) {
        requeued++;
        this.logger.warn(`import ${uuid} had no merge job: queued again`);
      }
    }
    for (const uuid of await this.imports.orphanedRowImports(SWEEP_BATCH)) await this.imports.dropRows(uuid);
    return requeued;
  }
}
