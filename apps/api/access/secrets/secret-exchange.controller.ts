import { Body, Controller, Post } from '@nestjs/common';
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

  @Post()
  @Public()
  @ApiOperation({
    operationId: 'create_user_secret',
    summary: 'Exchange a PIN for a new secret, shown once. Every failure is the same 401',
  })
  @ApiZodBody(exchangePinSchema)
  exchange(@Body() body: unknown): Promise<IssuedSecret> {
    return this.secrets.exchangePin(parseInput(exchangePinSchema, body));
  }
}
