import { type DynamicModule, Module } from '@nestjs/common';
import { SyncQueueModule } from '../queue/sync-queue.module.js';
import { SourceScanService } from './source-scan.service.js';
import { DEFAULT_SYNC_OPTIONS, SYNC_OPTIONS, type SyncOptions } from './sync-options.js';
import { SyncRunsRepository } from './sync-runs.repository.js';
import { SyncSourcesRepository } from './sync-sources.repository.js';
import { TwinReconciler } from './twin-reconciler.js';
import { TwinSyncService } from './twin-sync.service.js';
import { UpstreamClients } from './upstream-clients.js';

/** The sync machinery the worker's processors drive: upstream clients, scans, reconciles, run bookkeeping. */
@Module({})
export class SyncModule {
  static forRoot(options: Partial<SyncOptions> = {}): DynamicModule {
    const queues = SyncQueueModule.forRoot('worker');
    return {
      module: SyncModule,
      imports: [queues],
      providers: [
        { provide: SYNC_OPTIONS, useValue: { ...DEFAULT_SYNC_OPTIONS, ...options } },
        SyncSourcesRepository,
        SyncRunsRepository,
        TwinReconciler,
        UpstreamClients,
        TwinSyncService,
        SourceScanService,
      ],
      exports: [SyncSourcesRepository, SyncRunsRepository, TwinSyncService, SourceScanService, queues],
    };
  }
}
