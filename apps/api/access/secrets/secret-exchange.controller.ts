import { Body, Controller, Param, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AbuseLimiter } from '../../../../libs/admission/abuse-limiter.js';
import { TwindexError } from '../../../../libs/domain/errors.js';
import { normalizeUuid } from '../../../../libs/domain/identity/uuid.js';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../../http/action.decorator.js';
import { parseInput } from '../../http/validate.js';
import { ApiZodBody } from '../../http/openapi-body.js';
import { exchangePinSchema } from './secret-body.js';
import { type IssuedSecret, SecretsService } from '../../../../libs/access/secrets/secrets.service.js';

/** `create_user_secret`: public, because the user has no secret yet; the PIN is the credential. */
@ApiTags('secrets')
@Controller('secrets')
export class SecretExchangeController {
  constructor(
    private readonly secrets: SecretsService,
    private readonly limiter: AbuseLimiter,
  ) {}

  /** Trusted Twin's path: no body, the PIN names the user. */
  @Post(':account/:pin')
  @Public()
  @ApiOperation({
    operationId: 'create_user_secret',
    summary:
      'Redeem a PIN for a new secret, shown once. Every failure is the same 401; too many failures from one address or for one account: 429 with Retry-After',
  })
  redeem(
    @Param('account') account: string,
    @Param('pin') pin: string,
    @Req() request: FastifyRequest,
  ): Promise<IssuedSecret> {
    return this.throttled(request, account, () => this.secrets.redeemPin(account, pin));
  }

  /** The first Twindex form (alias), which names the user in the body too; answers its original shape. */
  @Post()
  @Public()
  @ApiOperation({
    operationId: 'create_user_secret_with_body',
    summary: 'Alias of POST /secrets/{account}/{pin} taking {account, user, pin}',
  })
  @ApiZodBody(exchangePinSchema)
  async exchange(
    @Body() body: unknown,
    @Req() request: FastifyRequest,
  ): Promise<Pick<IssuedSecret, 'secret' | 'fingerprint' | 'validity_ts'>> {
    const input = parseInput(exchangePinSchema, body);
    const user = /^[0-9a-fA-F-]{36}$/.test(input.user) ? input.user.toLowerCase() : null;
    const issued = await this.throttled(request, input.account, () =>
      this.secrets.redeemPin(input.account, input.pin, user),
    );
    return { secret: issued.secret, fingerprint: issued.fingerprint, validity_ts: issued.validity_ts };
  }

  /**
   * Six characters are guessable: an address or account that failed too often is refused before the PIN is
   * checked, and every 401 counts against both.
   */
  private async throttled(
    request: FastifyRequest,
    accountText: string,
    redeem: () => Promise<IssuedSecret>,
  ): Promise<IssuedSecret> {
    const account = normalizeUuid(accountText) ?? undefined;
    await this.limiter.assertNotBlocked(request.ip, account);
    try {
      return await redeem();
    } catch (err) {
      if (err instanceof TwindexError && err.kind === 'unauthorized') {
        await this.limiter.recordFailure(request.ip, account);
      }
      throw err;
    }
  }
}
