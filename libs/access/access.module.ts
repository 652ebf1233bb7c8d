import { Global, Module } from '@nestjs/common';
import { AuthService } from './auth.service.js';
import { PrincipalRepository } from './principal.repository.js';

/** Authentication and authorisation; the CRUD of accounts, users, roles, secrets and permissions lives in the API. */
@Global()
@Module({
  providers: [PrincipalRepository, AuthService],
  exports: [AuthService],
})
export class AccessModule {}
