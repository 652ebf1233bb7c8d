import { Module } from '@nestjs/common';
import { ImportQueueModule } from '../../../libs/imports/import-queue.module.js';
import { ImportsRepository } from '../../../libs/imports/imports.repository.js';
import { ImportRoute } from './import.route.js';
import { ImportsController } from './imports.controller.js';

/** Bulk imports (sync.md): the API stores the body and enqueues its merge; the worker merges. */
@Module({
  imports: [ImportQueueModule],
  controllers: [ImportsController],
  providers: [ImportsRepository, ImportRoute],
})
export class ImportsApiModule {}
