import { Body, Controller, Delete, Get, Param, Patch, Post, Req } from '@nestjs/common';
import { ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { RequiresAction } from '../../http/action.decorator.js';
import { parseInput } from '../../http/validate.js';
import { ApiZodBody } from '../openapi-body.js';
import { fingerprintPath, uuidPath } from '../path-params.js';
import { principalOf } from '../request-principal.js';
import { createPinSchema, updateSecretSchema } from './secret-body.js';
import { type SecretView } from './secret-view.js';
import { SecretsService } from './secrets.service.js';

@ApiTags('secrets')
@ApiSecurity('secret')
@Controller('users/:user/secrets')
export class UserSecretsController {
  constructor(private readonly secrets: SecretsService) {}

  @Post('pin')
  @RequiresAction('create_user_secret_pin')
  @ApiOperation({
    operationId: 'create_user_secret_pin',
    summary:
      'A single-use PIN (10 minutes, 5 tries) the user exchanges at POST /secrets; replaces any previous PIN',
  })
  @ApiZodBody(createPinSchema, undefined, false)
  createPin(
    @Req() req: FastifyRequest,
    @Param('user') user: string,
    @Body() body: unknown,
  ): Promise<{ pin: string; validity_ts: number }> {
    const uuid = uuidPath(user, 'User');
    parseInput(createPinSchema, body ?? {});
    return this.secrets.createPin(principalOf(req).account, uuid, principalOf(req).allowed);
  }

  @Get()
  @RequiresAction('get_user_secret')
  @ApiOperation({
    operationId: 'get_user_secret',
    summary: "The user's secrets by fingerprint — never the secret",
  })
  async list(@Req() req: FastifyRequest, @Param('user') user: string): Promise<{ secrets: SecretView[] }> {
    return { secrets: await this.secrets.list(principalOf(req).account, uuidPath(user, 'User')) };
  }

  @Patch(':fingerprint')
  @RequiresAction('update_user_secret')
  @ApiOperation({
    operationId: 'update_user_secret',
    summary: "Set a secret's validity_ts (null: never expires)",
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
    return this.secrets.updateValidity(principalOf(req).account, uuid, fp, input.validity_ts);
  }

  @Delete(':fingerprint')
  @RequiresAction('delete_user_secret')
  @ApiOperation({ operationId: 'delete_user_secret', summary: 'Revoke a secret; answers what was revoked' })
  delete(
    @Req() req: FastifyRequest,
    @Param('user') user: string,
    @Param('fingerprint') fingerprint: string,
  ): Promise<SecretView> {
    const uuid = uuidPath(user, 'User');
    return this.secrets.delete(principalOf(req).account, uuid, fingerprintPath(fingerprint));
  }
}
