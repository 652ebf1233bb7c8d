import { Body, Controller, Param, Post } from '@nestjs/common';
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
  constructor(private readonly secrets: SecretsService) {}

  /** Trusted Twin's path: no body, the PIN names the user. */
  @Post(':account/:pin')
  @Public()
  @ApiOperation({
    operationId: 'create_user_secret',
    summary: 'Redeem a PIN for a new secret, shown once. Every failure is the same 401',
  })
  redeem(@Param('account') account: string, @Param('pin') pin: string): Promise<IssuedSecret> {
    return this.secrets.redeemPin(account, pin);
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
  ): Promise<Pick<IssuedSecret, 'secret' | 'fingerprint' | 'validity_ts'>> {
    const input = parseInput(exchangePinSchema, body);
    const user = /^[0-9a-fA-F-]{36}$/.test(input.user) ? input.user.toLowerCase() : null;
    const issued = await this.secrets.redeemPin(input.account, input.pin, user);
    return { secret: issued.secret, fingerprint: issued.fingerprint, validity_ts: issued.validity_ts };
  }
}
