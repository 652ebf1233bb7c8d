import { Module } from '@nestjs/common';
import { AccountController, AccountsController } from './accounts/accounts.controller.js';
import { PermissionsController } from './permissions/permissions.controller.js';
import { RolesController } from './roles/roles.controller.js';
import { SecretExchangeController } from './secrets/secret-exchange.controller.js';
import { UserSecretsController } from './secrets/secrets.controller.js';
import { TokensController } from './tokens/tokens.controller.js';
import { UsersController } from './users/users.controller.js';
import { WhoAmIController } from './whoami/whoami.controller.js';

/**
 * The HTTP of accounts, users, roles, secrets, tokens, permissions and whoami: controllers, request bodies and
 * response views only. The services behind them come from libs/access (AccessModule, global), whose writers evict
 * the account's cached principals before the endpoint answers; the schema's triggers do the same on every other
 * instance.
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
})
export class AccessApiModule {}
