import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { CONFIG, type TwindexConfig } from '../config/index.js';
import { createPool, Db } from './db.js';

@Global()
@Module({
  providers: [
    {
      provide: Db,
      inject: [CONFIG],
      useFactory: (config: TwindexConfig) =>
        new Db(createPool(config.DATABASE_URL, config.DATABASE_POOL_SIZE)),
    },
  ],
  exports: [Db],
})
export class StoreModule implements OnApplicationShutdown {
  constructor(@Inject(Db) private readonly db: Db) {}

  async onApplicationShutdown(): Promise<void> {
    await this.db.pool.end();
  }
}
