import { Body, Controller, Header, HttpCode, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import {
  InvalidIdentityNameError,
  isValidIdentityName,
} from '../../../libs/domain/identity/identity-name.js';
import { refuseAfterPause, ResolveShare } from '../../../libs/admission/resolve-share.js';
import { ApiZodBody } from '../http/openapi-body.js';
import { RequiresAction } from '../http/action.decorator.js';
import { parseInput } from '../http/validate.js';
import { Caller, type RequestCaller } from '../http/caller.js';
import { batchAnswerJson, type ResolveError } from './resolve-answer.js';
import { RESOLVE_IDENTITY } from './resolve-operation.js';
import { ResolveService } from './resolve.service.js';
import { nowSeconds } from '../../../libs/clock/clock.js';

/** docs/resolution.md: a batch names at most 1,000 identities. */
export const MAX_BATCH_IDENTITIES = 1000;

const batchBody = z.strictObject({
  identities: z.array(z.string()).max(MAX_BATCH_IDENTITIES),
  context: z.union([z.string(), z.array(z.string())]).optional(),
  details: z.boolean().optional(),
});

@ApiTags('resolve')
@Controller('resolve')
export class ResolveController {
  constructor(
    private readonly resolver: ResolveService,
    private readonly share: ResolveShare,
  ) {}

  @Post()
  @HttpCode(200)
  // The body is written as JSON text (batchAnswerJson), sent as it is.
  @Header('content-type', 'application/json; charset=utf-8')
  // The batch is GET /resolve/{identity} for many names: the same action admits it, the same parser reads context.
  @RequiresAction(RESOLVE_IDENTITY.action)
  @ApiZodBody(batchBody, 'up to 1,000 names, one context and details for all')
  @ApiOperation({
    operationId: 'resolve_twin_identities',
    summary: 'Resolve up to 1,000 identities in one call',
  })
  async resolveBatch(@Caller() caller: RequestCaller, @Body() body: unknown): Promise<string> {
    const input = parseInput(batchBody, body);
    // Every name asked counts, the invalid ones too: each is answered.
    const refused = this.share.admit(caller.principal.account, input.identities.length, performance.now());
    if (refused) await refuseAfterPause(refused);
    const context = RESOLVE_IDENTITY.parameters.context.parse(input.context);
    const details = input.details ?? false;
    const valid = input.identities.filter(isValidIdentityName);
    const answers = await this.resolver.resolveMany(caller.principal, valid, context, details, nowSeconds());
    return batchAnswerJson(input.identities, answers, invalidName);
  }
}

function invalidName(name: string): ResolveError {
  const error = new InvalidIdentityNameError(name);
  return { error: { subcode: error.subcode, description: error.message } };
}
