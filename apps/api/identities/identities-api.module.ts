import { Module } from '@nestjs/common';
import { AuditLogRepository } from '../../../libs/store/audit-log.repository.js';
import { IdentityRepository } from '../../../libs/store/identity.repository.js';
import { TwinRepository } from '../../../libs/store/twin.repository.js';
import { IdentitiesController } from './identities.controller.js';
import { IdentitiesService } from './identities.service.js';

/** A twin's identities: attach, list, read, change the visibility rule, delete (/twins/{twin}/identities). */
@Module({
  controllers: [IdentitiesController],
  providers: [TwinRepository, IdentityRepository, AuditLogRepository, IdentitiesService],
})
export class IdentitiesApiModule {}
