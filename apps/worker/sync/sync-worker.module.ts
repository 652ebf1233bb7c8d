import { type DynamicModule, Module } from '@nestjs/common';
import type { SyncOptions } from '../../../libs/sync/sync-options.js';
import { SyncModule } from '../../../libs/sync/sync.module.js';
import { SourceScanProcessor } from './source-scan.processor.js';
import { SyncLedgerReconciler } from './sync-ledger.reconciler.js';
import { SyncRunReaper } from './sync-run-reaper.js';
import { SyncSchedules } from './sync-schedules.js';
import { TwinSyncProcessor } from './twin-sync.processor.js';
import { UpstreamPush } from './upstream-push.js';

/** The sync processors of the worker process (docs/sync.md). */
@Module({})
export class SyncWorkerModule {
  static forRoot(options: Partial<SyncOptions> = {}): DynamicModule {
    return {
      module: SyncWorkerModule,
      imports: [SyncModule.forRoot(options)],
      providers: [
        SourceScanProcessor,
        TwinSyncProcessor,
        SyncSchedules,
        SyncRunReaper,
        SyncLedgerReconciler,
        UpstreamPush,
      ],
      exports: [UpstreamPush],
    };
  }
}
