import { Module } from '@nestjs/common';
import { SyncQueueModule } from '../../../libs/queue/sync-queue.module.js';
import { SyncRunsRepository } from '../../../libs/sync/sync-runs.repository.js';
import { SyncSourcesRepository } from '../../../libs/sync/sync-sources.repository.js';
import { SyncRunsController } from './sync-runs.controller.js';
import { SyncSourcesController } from './sync-sources.controller.js';
import { SyncSourcesService } from './sync-sources.service.js';

/**
 * Sync sources, runs and the webhook intake (docs/sync.md). The API only records and enqueues; the worker does the
 * syncing. Queues are producers here, failing fast (503) when Redis is unreachable.
 */
@Module({
  imports: [SyncQueueModule.forRoot('api')],
  controllers: [SyncSourcesController, SyncRunsController],
  providers: [SyncSourcesRepository, SyncRunsRepository, SyncSourcesService],
})
export class SyncApiModule {}
