import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import {
  assertValidIdentityName,
  InvalidIdentityNameError,
  isValidIdentityName,
} from '../../../libs/domain/identity/identity-name.js';
import { parseDetails, parseResolveContext } from '../../../libs/domain/visibility/resolve-context.js';
import { ApiZodBody } from '../access/openapi-body.js';
import { RequiresAction } from '../http/action.decorator.js';
import { parseInput } from '../http/validate.js';
import { Caller, type RequestCaller } from './request-caller.js';
import { type ResolveAnswer, ResolveService } from './resolve.service.js';
import { type TwinResponse, twinResponse } from './twin-response.js';
import { nowSeconds } from './twins.service.js';

/** api.md: a batch names at most 1,000 identities. */
export const MAX_BATCH_IDENTITIES = 1000;

const batchBody = z.strictObject({
  identities: z.array(z.string()).max(MAX_BATCH_IDENTITIES),
  context: z.union([z.string(), z.array(z.string())]).optional(),
  details: z.boolean().optional(),
});

interface TwinsResult {
  twins: string[] | TwinResponse[];
}
interface ErrorResult {
  error: { subcode: string; description: string };
}

@ApiTags('resolve')
@Controller('resolve')
export class ResolveController {
  constructor(private readonly resolver: ResolveService) {}

  @Get(':identity')
  @RequiresAction('resolve_twin_identity')
  @ApiOperation({
    operationId: 'resolve_twin_identity',
    summary: 'Which twins carry this identity, for this caller',
  })
  @ApiParam({ name: 'identity', description: 'identity name, `#` percent-encoded as %23' })
  @ApiQuery({ name: 'context', required: false, description: 'personal (default), system, account UUID(s)' })
  @ApiQuery({
    name: 'details',
    required: false,
    description: 'twin objects of visible twins instead of UUIDs',
  })
  async resolve(
    @Caller() caller: RequestCaller,
    @Param('identity') identity: string,
    @Query() query: Record<string, unknown>,
  ): Promise<TwinsResult> {
    // The router has decoded the path segment once (%23 → #); validate what it decoded.
    assertValidIdentityName(identity);
    const context = parseResolveContext(query.context);
    const details = parseDetails(query.details);
    return render(await this.resolver.resolve(caller.principal, identity, context, details, nowSeconds()));
  }

  @Post()
  @HttpCode(200)
  @RequiresAction('resolve_twin_identity')
  @ApiZodBody(batchBody, 'up to 1,000 names, one context and details for all')
  @ApiOperation({
    operationId: 'resolve_twin_identities',
    summary: 'Resolve up to 1,000 identities in one call',
  })
  async resolveBatch(
    @Caller() caller: RequestCaller,
    @Body() body: unknown,
  ): Promise<{ results: Record<string, TwinsResult | ErrorResult> }> {
    const input = parseInput(batchBody, body);
    const context = parseResolveContext(input.context);
    const details = input.details ?? false;
    const valid = input.identities.filter(isValidIdentityName);
    const answers = await this.resolver.resolveMany(caller.principal, valid, context, details, nowSeconds());
    // Null prototype: names are caller input and must not meet Object.prototype's keys.
    const results = Object.create(null) as Record<string, TwinsResult | ErrorResult>;
    for (const name of input.identities) {
      const answer = answers.get(name);
      if (answer !== undefined) {
        results[name] = render(answer);
      } else {
        const error = new InvalidIdentityNameError(name);
        results[name] = { error: { subcode: error.subcode, description: error.message } };
      }
    }
    return { results };
  }
}

function render(answer: ResolveAnswer): TwinsResult {
  return answer.details ? { twins: answer.twins.map(twinResponse) } : { twins: answer.twins };
}
