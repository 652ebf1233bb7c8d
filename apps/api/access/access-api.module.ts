import { Module } from '@nestjs/common';
import { AccountController, AccountsController } from './accounts/accounts.controller.js';
import { AccountsRepository } from '../../../libs/access/accounts/accounts.repository.js';
import { AccountsService } from '../../../libs/access/accounts/accounts.service.js';
import { HeldActionsRepository } from '../../../libs/access/held-actions.repository.js';
import { PermissionsController } from './permissions/permissions.controller.js';
import { PermissionsRepository } from '../../../libs/access/permissions/permissions.repository.js';
import { PermissionsService } from '../../../libs/access/permissions/permissions.service.js';
import { RolesController } from './roles/roles.controller.js';
import { RolesRepository } from '../../../libs/access/roles/roles.repository.js';
import { RolesService } from '../../../libs/access/roles/roles.service.js';
import { SecretExchangeController } from './secrets/secret-exchange.controller.js';
import { UserSecretsController } from './secrets/secrets.controller.js';
import { SecretsRepository } from '../../../libs/access/secrets/secrets.repository.js';
import { SecretsService } from '../../../libs/access/secrets/secrets.service.js';
import { UsersController } from './users/users.controller.js';
import { UsersRepository } from '../../../libs/access/users/users.repository.js';
import { UsersService } from '../../../libs/access/users/users.service.js';
import { TokensController } from './tokens/tokens.controller.js';
import { TokensService } from '../../../libs/access/tokens/tokens.service.js';
import { WhoAmIController } from './whoami/whoami.controller.js';

/**
 * Accounts, users, roles, secrets, permissions and whoami endpoints (access.md). Authentication and the
 * principal cache live in libs/access (AuthService); every write that changes access evicts the account's cached
 * principals here before answering, and the schema's triggers do the same on every other instance.
 */
@Module({
  controllers: [
    AccountsController,
    AccountController,
    RolesController,
    UsersController,
    UserSecretsController,
    SecretExchangeController,
    PermissionsController,
    WhoAmIController,
    TokensController,
  ],
  providers: [
    AccountsRepository,
    AccountsService,
    RolesRepository,
    RolesService,
    UsersRepository,
    UsersService,
    SecretsRepository,
    SecretsService,
    PermissionsRepository,
    PermissionsService,
    HeldActionsRepository,
    TokensService,
  ],
})
export class AccessApiModule {}
