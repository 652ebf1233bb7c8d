import { Body, Controller, Get, Headers, Inject, Patch, Post, Req } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { AbuseLimiter } from '../../../../libs/admission/abuse-limiter.js';
import { isOperatorKey } from '../../../../libs/access/operator-key.js';
import { CONFIG, type TwindexConfig } from '../../../../libs/config/index.js';
import { forbidden, unauthorized } from '../../../../libs/domain/errors.js';
import { OwnCredential, RequiresAction } from '../../http/action.decorator.js';
import { parseInput } from '../../http/validate.js';
import { ApiZodBody } from '../../http/openapi-body.js';
import { principalOf } from '../../http/caller.js';
import { createAccountSchema, updateAccountSchema } from './account-body.js';
import { AccountsService } from '../../../../libs/access/accounts/accounts.service.js';
import {
  type AccountView,
  accountView,
  type CreatedAccountView,
  createdAccountView,
} from './account-view.js';

/** `POST /accounts`: the operator's door, authenticated by TWINDEX_OPERATOR_KEY rather than a user secret. */
@ApiTags('accounts')
@Controller('accounts')
export class AccountsController {
  constructor(
    private readonly accounts: AccountsService,
    @Inject(CONFIG) private readonly config: TwindexConfig,
    private readonly limiter: AbuseLimiter,
  ) {}

  @Post()
  @OwnCredential('operator-key')
  @ApiOperation({
    operationId: 'create_account',
    summary:
      'Operator only: create an account with its built-in roles, an admin user and its first secret (shown once)',
  })
  @ApiHeader({
    name: 'Authorization',
    description: 'TWINDEX_OPERATOR_KEY, bare or as Bearer',
    required: true,
  })
  @ApiZodBody(createAccountSchema)
  async create(
    @Headers('authorization') authorization: string | undefined,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
  ): Promise<CreatedAccountView> {
    const configured = this.config.TWINDEX_OPERATOR_KEY;
    // Nobody holds a key that is not configured: the door is shut, not merely locked.
    if (configured === undefined)
      throw forbidden('Account creation is disabled: TWINDEX_OPERATOR_KEY is not set');
    if (!isOperatorKey(authorization, configured)) {
      await this.limiter.recordFailure(request.ip);
      throw unauthorized('Missing or wrong operator key');
    }
    return createdAccountView(await this.accounts.create(parseInput(createAccountSchema, body)));
  }
}

@ApiTags('accounts')
@ApiSecurity('secret')
@Controller('account')
export class AccountController {
  constructor(private readonly accounts: AccountsService) {}

  @Get()
  @RequiresAction('get_account')
  @ApiOperation({ operationId: 'get_account', summary: "The caller's account" })
  async get(@Req() req: FastifyRequest): Promise<AccountView> {
    return accountView(await this.accounts.get(principalOf(req).account));
  }

  @Patch()
  @RequiresAction('update_account')
  @ApiOperation({ operationId: 'update_account', summary: "Rename the caller's account" })
  @ApiZodBody(updateAccountSchema)
  async update(@Req() req: FastifyRequest, @Body() body: unknown): Promise<AccountView> {
    const input = parseInput(updateAccountSchema, body);
    return accountView(await this.accounts.update(principalOf(req).account, input));
  }
}
