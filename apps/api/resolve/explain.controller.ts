import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { refuseAfterPause, ResolveShare } from '../../../libs/admission/resolve-share.js';
import type { Action } from '../../../libs/domain/access/action-catalogue.js';
import { nowSeconds } from '../../../libs/clock/clock.js';
import { RequiresAction } from '../http/action.decorator.js';
import { Caller, type RequestCaller } from '../http/caller.js';
import { ApiZodBody } from '../http/openapi-body.js';
import { parseInput } from '../http/validate.js';
import { RESOLVE_IDENTITY } from './resolve-operation.js';
import { explainBody } from './explain-body.js';
import { ExplainService } from './explain.service.js';
import type { Explanation } from './explanation.js';

const EXPLAIN: Action = 'explain_resolution';

@ApiTags('resolve')
@Controller('resolve')
export class ExplainController {
  constructor(
    private readonly explainer: ExplainService,
    private readonly share: ResolveShare,
  ) {}

  @Post('explain')
  @HttpCode(200)
  @RequiresAction(EXPLAIN)
  @ApiZodBody(explainBody, "GET /resolve's identity, context and details; optionally as_user and dict")
  @ApiOperation({
    operationId: EXPLAIN,
    summary:
      'Why this caller (does not) see this identity: the answer GET /resolve gives, with the path to it',
  })
  async explain(@Caller() caller: RequestCaller, @Body() body: unknown): Promise<Explanation> {
    const input = parseInput(explainBody, body);
    // An explanation resolves the name as GET /resolve does: it costs the same share.
    const refused = this.share.admit(caller.principal.account, 1, performance.now());
    if (refused) await refuseAfterPause(refused);
    // GET /resolve's own parsers: the same names and contexts are valid, with the same 400s.
    const { parameters } = RESOLVE_IDENTITY;
    return this.explainer.explain(
      caller.principal,
      {
        name: parameters.identity.parse(input.identity),
        context: parameters.context.parse(input.context),
        details: input.details ?? false,
        asUser: input.as_user,
        dict: input.dict,
      },
      nowSeconds(),
    );
  }
}
