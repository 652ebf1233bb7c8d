import { Module } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import { ImportMergeService } from '../../../libs/imports/import-merge.service.js';
import { ImportProducer } from '../../../libs/imports/import-producer.js';
import { ImportsRepository } from '../../../libs/imports/imports.repository.js';
import { QUEUES } from '../../../libs/queue/job-catalogue.js';
import { ImportLedgerReconciler } from './import-ledger.reconciler.js';
import { ImportMergeProcessor } from './import-merge.processor.js';
import { ImportSweeper } from './import-sweeper.js';

/** The bulk-import merge of the worker process (docs/imports.md) and the sweep of stuck imports. */
@Module({
  imports: [BullModule.registerQueue({ name: QUEUES.imports })],
  providers: [
    ImportsRepository,
    ImportMergeService,
    ImportMergeProcessor,
    ImportProducer,
    ImportSweeper,
    ImportLedgerReconciler,
  ],
  exports: [ImportSweeper],
})
export class ImportsWorkerModule {}
