import { Global, Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller.js';
import { ApiMetrics } from './metrics.registry.js';

@Global()
@Module({
  providers: [ApiMetrics],
  controllers: [MetricsController],
  exports: [ApiMetrics],
})
export class MetricsModule {}
