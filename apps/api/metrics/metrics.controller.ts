import { Controller, Get, Header, Inject, Req } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { type FastifyRequest } from 'fastify';
import { timingSafeEqual } from 'node:crypto';
import { CONFIG, type TwindexConfig } from '../../../libs/config/index.js';
import { unauthorized } from '../../../libs/domain/errors.js';
import { OwnCredential } from '../http/action.decorator.js';
import { ApiMetrics } from './metrics.registry.js';

@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: ApiMetrics,
    @Inject(CONFIG) private readonly config: TwindexConfig,
  ) {}

  /** Public unless METRICS_TOKEN is set (docs/operations.md "Metrics"). */
  @Get()
  @OwnCredential('metrics-token')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  async scrape(@Req() request: FastifyRequest): Promise<string> {
    const token = this.config.METRICS_TOKEN;
    if (token) {
      const given = Buffer.from((request.headers.authorization ?? '').replace(/^Bearer\s+/i, ''));
      const want = Buffer.from(token);
      if (given.length !== want.length || !timingSafeEqual(given, want))
        throw unauthorized('Metrics token required');
    }
    return this.metrics.registry.metrics();
  }
}
