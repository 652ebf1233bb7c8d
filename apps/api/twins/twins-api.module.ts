import { Module } from '@nestjs/common';
import { AuditLogRepository } from '../../../libs/store/audit-log.repository.js';
import { TwinRepository } from '../../../libs/store/twin.repository.js';
import { TwinsController } from './twins.controller.js';
import { TwinsService } from './twins.service.js';

/** Creating, reading, describing, terminating and scanning twins (/twins). */
@Module({
  controllers: [TwinsController],
  providers: [TwinRepository, AuditLogRepository, TwinsService],
})
export class TwinsApiModule {}
