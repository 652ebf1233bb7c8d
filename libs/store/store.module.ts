import { type DynamicModule, Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { CONFIG, type TwindexConfig } from '../config/index.js';
import { CommittedChanges } from './committed-changes.js';
import { createPool, Db, deadlinesFrom } from './db.js';

@Global()
@Module({})
export class StoreModule implements OnApplicationShutdown {
  constructor(@Inject(Db) private readonly db: Db) {}

  /** The API's pool answers requests (short deadlines); the worker's runs jobs (longer statements). */
  static forRoot(role: 'api' | 'worker'): DynamicModule {
    return {
      module: StoreModule,
      providers: [
        {
          provide: Db,
          inject: [CONFIG],
          useFactory: (config: TwindexConfig) =>
            new Db(createPool(config.DATABASE_URL, config.DATABASE_POOL_SIZE, deadlinesFrom(config, role))),
        },
        CommittedChanges,
      ],
      exports: [Db, CommittedChanges],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.db.pool.end();
  }
}
