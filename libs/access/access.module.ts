import { Global, Module } from '@nestjs/common';
import { AbuseLimiter } from '../admission/abuse-limiter.js';
import { AccountsRepository } from './accounts/accounts.repository.js';
import { AccountsService } from './accounts/accounts.service.js';
import { AuthService } from './auth.service.js';
import { HeldActionsRepository } from './held-actions.repository.js';
import { PermissionsRepository } from './permissions/permissions.repository.js';
import { PermissionsService } from './permissions/permissions.service.js';
import { PrincipalRepository } from './principal.repository.js';
import { RolesRepository } from './roles/roles.repository.js';
import { RolesService } from './roles/roles.service.js';
import { SecretsRepository } from './secrets/secrets.repository.js';
import { SecretsService } from './secrets/secrets.service.js';
import { TokensService } from './tokens/tokens.service.js';
import { UserAccessRepository } from './user-access.repository.js';
import { UsersRepository } from './users/users.repository.js';
import { UsersService } from './users/users.service.js';

const services = [
  AccountsService,
  RolesService,
  UsersService,
  SecretsService,
  PermissionsService,
  TokensService,
];

/**
 * Authentication and authorisation (AuthService and its principal cache), and the accounts, roles, users, secrets,
 * tokens and permissions behind the API's access endpoints. The repositories are the tables' writers: each evicts
 * the account's cached principals after a committed change: they report it to CommittedChanges (libs/store),
 * and AuthService, which holds the cache, listens.
 */
@Global()
@Module({
  providers: [
    PrincipalRepository,
    AuthService,
    AbuseLimiter,
    AccountsRepository,
    RolesRepository,
    UsersRepository,
    SecretsRepository,
    PermissionsRepository,
    HeldActionsRepository,
    UserAccessRepository,
    ...services,
  ],
  exports: [AuthService, AbuseLimiter, UserAccessRepository, ...services],
})
export class AccessModule {}
