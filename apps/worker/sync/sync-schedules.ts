import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { schedulerId, SyncProducer } from '../../../libs/queue/sync-producer.js';
import { SyncRunsRepository } from '../../../libs/sync/sync-runs.repository.js';
import { SyncSourcesRepository } from '../../../libs/sync/sync-sources.repository.js';
import { TwinSyncService } from '../../../libs/sync/twin-sync.service.js';

/**
 * At worker start: job schedulers are aligned with the sources table (Redis may have lost them, or a source changed
 * while no API could reach Redis), and runs a previous worker left fully done but not closed are closed. Upserting
 * an unchanged scheduler is skipped, so restart loops neither duplicate nor reset schedules.
 */
@Injectable()
export class SyncSchedules implements OnApplicationBootstrap {
  private readonly logger = new Logger('sync');

  constructor(
    private readonly sources: SyncSourcesRepository,
    private readonly runs: SyncRunsRepository,
    private readonly producer: SyncProducer,
    private readonly twins: TwinSyncService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    try {
      await this.alignSchedules();
      await this.twins.finishRuns(await this.runs.finishCandidates());
    } catch (e) {
      // The API keeps schedulers up to date too; a worker must not refuse to start over this.
      this.logger.warn(`could not align sync schedules: ${(e as Error).message}`);
    }
  }

  async alignSchedules(): Promise<void> {
    const existing = await this.producer.schedules();
    const wanted = new Set<string>();
    for (const source of await this.sources.listAll()) {
      if (!source.enabled || source.schedule === null) continue;
      const id = schedulerId(source.uuid);
      wanted.add(id);
      const current = existing.get(id);
      // A scheduler from before jobs named their account, or before they carried a fair-share priority (a job
      // without one would be served ahead of every prioritised job), is rewritten too.
      if (current?.pattern !== source.schedule || current.account !== source.account || !current.prioritized)
        await this.producer.upsertSchedule(source.uuid, source.schedule, source.account);
    }
    for (const id of existing.keys()) {
      if (id.startsWith('sync-source.') && !wanted.has(id)) {
        await this.producer.removeSchedule(id.slice('sync-source.'.length));
      }
    }
  }
}
