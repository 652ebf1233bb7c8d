import { Body, Controller, Post, Req } from '@nestjs/common';
import { ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { RequiresAction } from '../../http/action.decorator.js';
import { parseInput } from '../../http/validate.js';
import { ApiZodBody } from '../../http/openapi-body.js';
import { principalOf } from '../../http/caller.js';
import { nowSeconds } from '../../../../libs/clock/clock.js';
import { createTokenSchema, refreshTokenSchema } from './token-body.js';
import { type CreatedToken, TokensService } from '../../../../libs/access/tokens/tokens.service.js';

/** Trusted Twin's user tokens (docs/access.md "User tokens"): signed, self-contained, short-lived; never stored. */
@ApiTags('tokens')
@ApiSecurity('secret')
@Controller('token')
export class TokensController {
  constructor(private readonly tokens: TokensService) {}

  @Post()
  @RequiresAction('create_user_token')
  @ApiOperation({
    operationId: 'create_user_token',
    summary: 'Mint a user token for the caller (body optional)',
  })
  @ApiZodBody(createTokenSchema, undefined, false)
  create(@Req() req: FastifyRequest, @Body() body: unknown): Promise<CreatedToken> {
    const input = parseInput(createTokenSchema, body ?? {});
    return this.tokens.create(principalOf(req), input, nowSeconds());
  }

  @Post('refresh')
  @RequiresAction('refresh_user_token')
  @ApiOperation({
    operationId: 'refresh_user_token',
    summary: "Refresh a token minted with the 'refresh' option",
  })
  @ApiZodBody(refreshTokenSchema, undefined, false)
  refresh(@Req() req: FastifyRequest, @Body() body: unknown): Promise<Omit<CreatedToken, 'options'>> {
    const input = parseInput(refreshTokenSchema, body ?? {});
    return this.tokens.refresh(principalOf(req), input.validity_ts, nowSeconds());
  }
}
