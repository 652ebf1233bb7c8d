import { Controller, Get, Req } from '@nestjs/common';
import { ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { RequiresAction } from '../../http/action.decorator.js';
import { principalOf } from '../../http/caller.js';

/** Trusted Twin's who_am_i (UUID strings), with Twindex's extras beside them (the OpenAPI document at /docs). */
export interface WhoAmI {
  account: string;
  user: string;
  role: string;
  names: { account: string; user: string; role: string };
  /** The credential this request came with; for a token, `fingerprint` names the secret it was minted from. */
  credential: { type: 'secret' | 'token'; fingerprint: string; validity_ts: number | null };
  /** Every catalogue action the caller may run (role statement OR active permissions), sorted. */
  actions: string[];
}

@ApiTags('access')
@ApiSecurity('secret')
@Controller('whoami')
export class WhoAmIController {
  /** Answered from the verified principal alone: no database round trip once the key is warm. */
  @Get()
  @RequiresAction('who_am_i')
  @ApiOperation({
    operationId: 'who_am_i',
    summary: 'The caller: account, user and role UUIDs, their names, the credential and allowed actions',
  })
  whoami(@Req() req: FastifyRequest): WhoAmI {
    const p = principalOf(req);
    return {
      account: p.account,
      user: p.user,
      role: p.role,
      names: { account: p.accountName, user: p.userName, role: p.roleName },
      credential: p.token
        ? { type: 'token', fingerprint: p.fingerprint, validity_ts: p.token.validityTs }
        : { type: 'secret', fingerprint: p.fingerprint, validity_ts: p.secretValidityTs },
      actions: [...p.allowed].sort(),
    };
  }
}
