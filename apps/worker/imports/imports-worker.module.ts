import { Module } from '@nestjs/common';
import { ImportMergeService } from '../../../libs/imports/import-merge.service.js';
import { ImportsRepository } from '../../../libs/imports/imports.repository.js';
import { ImportMergeProcessor } from './import-merge.processor.js';

/** The bulk-import merge of the worker process (sync.md "Bulk imports"). */
@Module({
  providers: [ImportsRepository, ImportMergeService, ImportMergeProcessor],
})
export class ImportsWorkerModule {}
