import { Global, Inject, Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { CONFIG, type TwindexConfig } from '../config/index.js';
import { deadlinesFrom } from '../store/db.js';
import { ChangeFeed } from './change-feed.js';

@Global()
@Module({
  providers: [
    {
      provide: ChangeFeed,
      inject: [CONFIG],
      useFactory: (c: TwindexConfig) => new ChangeFeed(c.DATABASE_URL, undefined, deadlinesFrom(c)),
    },
  ],
  exports: [ChangeFeed],
})
export class CacheModule implements OnModuleInit, OnApplicationShutdown {
  constructor(@Inject(ChangeFeed) private readonly feed: ChangeFeed) {}

  async onModuleInit(): Promise<void> {
    await this.feed.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.feed.stop();
  }
}
