import { Body, Controller, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AbuseLimiter } from '../../../../libs/access/abuse-limiter.js';
import { TwindexError } from '../../../../libs/domain/errors.js';
import { normalizeUuid } from '../../../../libs/domain/identity/uuid.js';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../../http/action.decorator.js';
import { parseInput } from '../../http/validate.js';
import { ApiZodBody } from '../openapi-body.js';
import { exchangePinSchema } from './secret-body.js';
import { type IssuedSecret, SecretsService } from './secrets.service.js';

/** `create_user_secret`: public, because the user has no secret yet; the PIN is the credential. */
@ApiTags('secrets')
@Controller('secrets')
export class SecretExchangeController {
  constructor(
    private readonly secrets: SecretsService,
    private readonly limiter: AbuseLimiter,
  ) {}

  @Post()
  @Public()
  @ApiOperation({
    operationId: 'create_user_secret',
    summary:
      'Exchange a PIN for a new secret, shown once. Every failure is the same 401; too many failures from one address or for one account: 429 with Retry-After',
  })
  @ApiZodBody(exchangePinSchema)
  async exchange(@Body() body: unknown, @Req() request: FastifyRequest): Promise<IssuedSecret> {
    const input = parseInput(exchangePinSchema, body);
    // Six digits are guessable: an address or account that failed too often is refused before the PIN is checked.
    const account = normalizeUuid(input.account) ?? undefined;
    await this.limiter.assertNotBlocked(request.ip, account);
    try {
      return await this.secrets.exchangePin(input);
    } catch (err) {
      if (err instanceof TwindexError && err.kind === 'unauthorized') {
        await this.limiter.recordFailure(request.ip, account);
      }
      throw err;
    }
  }
}
