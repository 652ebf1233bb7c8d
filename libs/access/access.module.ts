import { Global, Module } from '@nestjs/common';
import { AbuseLimiter } from '../admission/abuse-limiter.js';
import { AuthService } from './auth.service.js';
import { PrincipalRepository } from './principal.repository.js';

/** Authentication and authorisation; the CRUD of accounts, users, roles, secrets and permissions lives in the API. */
@Global()
@Module({
  providers: [PrincipalRepository, AuthService, AbuseLimiter],
  exports: [AuthService, AbuseLimiter],
})
export class AccessModule {}
