import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { CONFIG, type TwindexConfig } from '../../../libs/config/index.js';
import { IMPORT_DB, ImportDb } from '../../../libs/imports/import-db.js';
import { ImportQueueModule } from '../../../libs/imports/import-queue.module.js';
import { ImportsRepository } from '../../../libs/imports/imports.repository.js';
import { createPool, deadlinesFrom } from '../../../libs/store/db.js';
import { ImportRoute } from './import.route.js';
import { ImportsController } from './imports.controller.js';

/** Bulk imports (docs/imports.md): the API stores the body and enqueues its merge; the worker merges. */
@Module({
  imports: [ImportQueueModule],
  controllers: [ImportsController],
  providers: [
    ImportsRepository,
    ImportRoute,
    {
      provide: IMPORT_DB,
      inject: [CONFIG],
      useFactory: (config: TwindexConfig) =>
        // The COPY of a large body is one long statement: the worker's statement deadline fits it, the API's does not.
        new ImportDb(
          createPool(config.DATABASE_URL, config.IMPORT_POOL_SIZE, deadlinesFrom(config, 'worker')),
        ),
    },
  ],
})
export class ImportsApiModule implements OnApplicationShutdown {
  constructor(@Inject(IMPORT_DB) private readonly importDb: ImportDb) {}

  async onApplicationShutdown(): Promise<void> {
    await this.importDb.pool.end();
  }
}
