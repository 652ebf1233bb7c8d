import { Module } from '@nestjs/common';
import { AuditLogRepository } from '../../../libs/store/audit-log.repository.js';
import { LogController } from './log.controller.js';

/** The account's audit log (GET /log). */
@Module({
  controllers: [LogController],
  providers: [AuditLogRepository],
})
export class AuditApiModule {}
