import { Controller, Get, Req } from '@nestjs/common';
import { ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { RequiresAction } from '../../http/action.decorator.js';
import { principalOf } from '../request-principal.js';

export interface WhoAmI {
  account: { uuid: string; name: string };
  user: { uuid: string; name: string };
  role: { uuid: string; name: string };
  secret: { fingerprint: string; validity_ts: number | null };
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
    summary: 'The caller: account, user, role, secret and allowed actions',
  })
  whoami(@Req() req: FastifyRequest): WhoAmI {
    const p = principalOf(req);
    return {
      account: { uuid: p.account, name: p.accountName },
      user: { uuid: p.user, name: p.userName },
      role: { uuid: p.role, name: p.roleName },
      secret: { fingerprint: p.fingerprint, validity_ts: p.secretValidityTs },
      actions: [...p.allowed].sort(),
    };
  }
}
