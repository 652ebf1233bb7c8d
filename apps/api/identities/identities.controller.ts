import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { badRequest } from '../../../libs/domain/errors.js';
import { assertValidIdentityName } from '../../../libs/domain/identity/identity-name.js';
import { parseIdentityListFilters } from '../../../libs/domain/visibility/identity-filters.js';
import type { IdentityChanges, NewIdentity } from '../../../libs/store/identity.repository.js';
import { assertRuleText } from '../../../libs/domain/rules/index.js';
import { ApiZodBody } from '../http/openapi-body.js';
import { RequiresAction } from '../http/action.decorator.js';
import { parseInput } from '../http/validate.js';
import { IdentitiesService } from './identities.service.js';
import {
  type IdentityResponse,
  identitiesResponse,
  identityResponse,
  type ListedIdentityResponse,
  listingResponse,
} from './identity-response.js';
import { Caller, type RequestCaller } from '../http/caller.js';
import { uuidPath } from '../http/path-id.js';

/** docs/http.md: 1–1000 names per create call. */
export const MAX_IDENTITIES_PER_CREATE = 1000;

const identityAttributes = z.strictObject({
  visibility: z.string().nullable().optional(),
  validity_ts: z.number().nullable().optional(),
});
const createBody = z.strictObject({ identities: z.record(z.string(), identityAttributes) });

@ApiTags('identities')
@Controller('twins/:twin/identities')
export class IdentitiesController {
  constructor(private readonly identities: IdentitiesService) {}

  @Post()
  @HttpCode(201)
  @RequiresAction('create_twin_identity')
  @ApiZodBody(createBody, 'identity name → attributes; 1–1000 names')
  @ApiOperation({
    operationId: 'create_twin_identity',
    summary: 'Attach 1–1000 identities to a twin, atomically',
  })
  @ApiParam({ name: 'twin', description: 'twin UUID' })
  async create(
    @Caller() caller: RequestCaller,
    @Param('twin') twin: string,
    @Body() body: unknown,
  ): Promise<{ identities: Record<string, IdentityResponse> }> {
    const uuid = uuidPath(twin, 'Twin');
    const entries = parseCreateBody(body);
    return identitiesResponse(await this.identities.create(caller.principal, caller.actor, uuid, entries));
  }

  @Get()
  @RequiresAction('get_twin_identities')
  @ApiOperation({
    operationId: 'get_twin_identities',
    summary: 'Identities on a twin, grouped by owner account',
  })
  @ApiParam({ name: 'twin', description: 'twin UUID' })
  @ApiQuery({ name: 'show_personal', required: false, description: 'default true' })
  @ApiQuery({
    name: 'show_foreign',
    required: false,
    description: 'true, false (default) or an account UUID',
  })
  @ApiQuery({ name: 'show_valid', required: false, description: 'default true' })
  @ApiQuery({ name: 'show_expired', required: false, description: 'default false' })
  @ApiQuery({ name: 'show_public', required: false, description: 'default true' })
  @ApiQuery({ name: 'show_private', required: false, description: 'default true' })
  async list(
    @Caller() caller: RequestCaller,
    @Param('twin') twin: string,
    @Query() query: Record<string, unknown>,
  ): Promise<{ accounts: Record<string, Record<string, ListedIdentityResponse>> }> {
    const uuid = uuidPath(twin, 'Twin');
    const filters = parseIdentityListFilters(query);
    return listingResponse(await this.identities.list(caller.principal, uuid, filters));
  }

  @Get(':identity')
  @RequiresAction('get_twin_identity')
  @ApiOperation({ operationId: 'get_twin_identity', summary: 'One of the caller’s own identities on a twin' })
  @ApiParam({ name: 'twin', description: 'twin UUID' })
  @ApiParam({ name: 'identity', description: 'identity name, `#` percent-encoded as %23' })
  async get(
    @Caller() caller: RequestCaller,
    @Param('twin') twin: string,
    @Param('identity') identity: string,
  ): Promise<IdentityResponse> {
    const uuid = uuidPath(twin, 'Twin');
    assertValidIdentityName(identity);
    return identityResponse(await this.identities.get(caller.principal, uuid, identity));
  }

  @Patch(':identity')
  @RequiresAction('update_twin_identity')
  @ApiZodBody(identityAttributes, 'attributes given replace, others stay')
  @ApiOperation({
    operationId: 'update_twin_identity',
    summary: 'Replace the attributes given, keep the others',
  })
  @ApiParam({ name: 'twin', description: 'twin UUID' })
  @ApiParam({ name: 'identity', description: 'identity name, `#` percent-encoded as %23' })
  async update(
    @Caller() caller: RequestCaller,
    @Param('twin') twin: string,
    @Param('identity') identity: string,
    @Body() body: unknown,
  ): Promise<IdentityResponse> {
    const uuid = uuidPath(twin, 'Twin');
    assertValidIdentityName(identity);
    const changes = parseChanges(body);
    return identityResponse(
      await this.identities.update(caller.principal, caller.actor, uuid, identity, changes),
    );
  }

  @Delete(':identity')
  @RequiresAction('delete_twin_identity')
  @ApiOperation({ operationId: 'delete_twin_identity', summary: 'Delete one of the caller’s identities' })
  @ApiParam({ name: 'twin', description: 'twin UUID' })
  @ApiParam({ name: 'identity', description: 'identity name, `#` percent-encoded as %23' })
  async delete(
    @Caller() caller: RequestCaller,
    @Param('twin') twin: string,
    @Param('identity') identity: string,
  ): Promise<IdentityResponse> {
    const uuid = uuidPath(twin, 'Twin');
    assertValidIdentityName(identity);
    return identityResponse(await this.identities.delete(caller.principal, caller.actor, uuid, identity));
  }
}

/**
 * Names are checked on the raw keys, not on the schema's copy: a key such as `__proto__` must be refused as a bad
 * name, not silently lost in the copy (Fastify already refuses such bodies; this does not rely on it).
 */
function parseCreateBody(body: unknown): NewIdentity[] {
  const { identities } = parseInput(createBody, body);
  const names = Object.keys((body as { identities: object }).identities);
  if (names.length === 0 || names.length > MAX_IDENTITIES_PER_CREATE) {
    throw badRequest(
      'invalid_body',
      `identities: give 1 to ${MAX_IDENTITIES_PER_CREATE} names, not ${names.length}`,
    );
  }
  for (const name of names) assertValidIdentityName(name);
  return Object.entries(identities).map(([name, attributes]) => {
    if (typeof attributes.visibility === 'string') {
      assertRuleText(attributes.visibility, `identities.${name}.visibility`);
    }
    return { name, visibility: attributes.visibility ?? null, validityTs: attributes.validity_ts ?? null };
  });
}

function parseChanges(body: unknown): IdentityChanges {
  const input = parseInput(identityAttributes, body);
  if (typeof input.visibility === 'string') assertRuleText(input.visibility, 'visibility');
  return { visibility: input.visibility, validityTs: input.validity_ts };
}
