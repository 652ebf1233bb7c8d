import { Global, Module } from '@nestjs/common';
import { type TwindexConfig } from './config.schema.js';

export const CONFIG = Symbol('TWINDEX_CONFIG');

/** Configuration is validated before Nest starts; this module only makes the typed result injectable. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: TwindexConfig) {
    return { module: ConfigModule, providers: [{ provide: CONFIG, useValue: config }], exports: [CONFIG] };
  }
}
