import { Body, Controller, Delete, Get, Param, Patch, Post, Req } from '@nestjs/common';
import { ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { RequiresAction } from '../../http/action.decorator.js';
import { parseInput } from '../../http/validate.js';
import { ApiZodBody } from '../../http/openapi-body.js';
import { fingerprintPath, uuidPath } from '../../http/path-id.js';
import { principalOf } from '../../http/caller.js';
import { createPinSchema, updateSecretSchema } from './secret-body.js';
import { type SecretView, secretView, type UserSecretView, userSecretView } from './secret-view.js';
import { type CreatedPin, SecretsService } from '../../../../libs/access/secrets/secrets.service.js';

/**
 * A user's secrets on Trusted Twin's paths: the collection `/users/{user}/secrets` is Trusted Twin's one secret
 * (newest shown, all updated or revoked); `/users/{user}/secrets/{fingerprint}` acts on one (rotation).
 */
@ApiTags('secrets')
@ApiSecurity('secret')
@Controller('users/:user/secrets')
export class UserSecretsController {
  constructor(private readonly secrets: SecretsService) {}

  @Post()
  @RequiresAction('create_user_secret_pin')
  @ApiOperation({
    operationId: 'create_user_secret_pin',
    summary:
      'A single-use PIN (10 minutes) the user redeems at POST /secrets/{account}/{pin}; replaces any previous PIN',
  })
  @ApiZodBody(createPinSchema, undefined, false)
  createPin(
    @Req() req: FastifyRequest,
    @Param('user') user: string,
    @Body() body: unknown,
  ): Promise<CreatedPin> {
    const uuid = uuidPath(user, 'User');
    const input = parseInput(createPinSchema, body ?? {});
    return this.secrets.createPin(
      principalOf(req).account,
      uuid,
      principalOf(req).allowed,
      input.validity_ts ?? null,
    );
  }

  /** The first Twindex form (alias): same PIN, answered as `{pin, validity_ts}` with the PIN's own expiry. */
  @Post('pin')
  @RequiresAction('create_user_secret_pin')
  @ApiOperation({
    operationId: 'create_user_secret_pin_alias',
    summary: 'Alias of POST /users/{user}/secrets',
  })
  @ApiZodBody(createPinSchema, undefined, false)
  async createPinAlias(
    @Req() req: FastifyRequest,
    @Param('user') user: string,
    @Body() body: unknown,
  ): Promise<{ pin: string; validity_ts: number }> {
    const uuid = uuidPath(user, 'User');
    const input = parseInput(createPinSchema, body ?? {});
    const created = await this.secrets.createPin(
      principalOf(req).account,
      uuid,
      principalOf(req).allowed,
      input.validity_ts ?? null,
    );
    return { pin: created.pin, validity_ts: created.pin_validity_ts };
  }

  @Get()
  @RequiresAction('get_user_secret')
  @ApiOperation({
    operationId: 'get_user_secret',
    summary: "The user's newest secret, with all of them listed (never the secret); 404 when none",
  })
  get(@Req() req: FastifyRequest, @Param('user') user: string): Promise<UserSecretView> {
    return this.secrets.getAll(principalOf(req).account, uuidPath(user, 'User')).then(userSecretView);
  }

  @Patch()
  @RequiresAction('update_user_secret')
  @ApiOperation({ operationId: 'update_user_secret', summary: "Set validity_ts on all the user's secrets" })
  @ApiZodBody(updateSecretSchema)
  updateAll(
    @Req() req: FastifyRequest,
    @Param('user') user: string,
    @Body() body: unknown,
  ): Promise<UserSecretView> {
    const uuid = uuidPath(user, 'User');
    const input = parseInput(updateSecretSchema, body);
    return this.secrets
      .updateAllValidity(principalOf(req).account, uuid, input.validity_ts)
      .then(userSecretView);
  }

  @Delete()
  @RequiresAction('delete_user_secret')
  @ApiOperation({
    operationId: 'delete_user_secret',
    summary: "Revoke all the user's secrets; answers what was revoked",
  })
  deleteAll(@Req() req: FastifyRequest, @Param('user') user: string): Promise<UserSecretView> {
    return this.secrets.deleteAll(principalOf(req).account, uuidPath(user, 'User')).then(userSecretView);
  }

  @Patch(':fingerprint')
  @RequiresAction('update_user_secret')
  @ApiOperation({
    operationId: 'update_one_user_secret',
    summary: "Set one secret's validity_ts (null: never expires)",
  })
  @ApiZodBody(updateSecretSchema)
  update(
    @Req() req: FastifyRequest,
    @Param('user') user: string,
    @Param('fingerprint') fingerprint: string,
    @Body() body: unknown,
  ): Promise<SecretView> {
    const uuid = uuidPath(user, 'User');
    const fp = fingerprintPath(fingerprint);
    const input = parseInput(updateSecretSchema, body);
    return this.secrets
      .updateValidity(principalOf(req).account, uuid, fp, input.validity_ts)
      .then(secretView);
  }

  @Delete(':fingerprint')
  @RequiresAction('delete_user_secret')
  @ApiOperation({
    operationId: 'delete_one_user_secret',
    summary: 'Revoke one secret; answers what was revoked',
  })
  delete(
    @Req() req: FastifyRequest,
    @Param('user') user: string,
    @Param('fingerprint') fingerprint: string,
  ): Promise<SecretView> {
    const uuid = uuidPath(user, 'User');
    return this.secrets.delete(principalOf(req).account, uuid, fingerprintPath(fingerprint)).then(secretView);
  }
}
