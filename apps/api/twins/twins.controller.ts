import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { badRequest, notFound } from '../../../libs/domain/errors.js';
import { assertValidDescription } from '../../../libs/domain/identity/description.js';
import { normalizeUuid } from '../../../libs/domain/identity/uuid.js';
import { parseDetails } from '../../../libs/domain/visibility/resolve-context.js';
import { parseBooleanParameter } from '../../../libs/domain/visibility/query-parameters.js';
import { ApiZodBody } from '../http/openapi-body.js';
import { RequiresAction } from '../http/action.decorator.js';
import { uuidPath } from '../http/path-id.js';
import { parseInput } from '../http/validate.js';
import {
  badCursor,
  decodeCursor,
  encodeCursor,
  parseIntegerParameter,
  parseNumberParameter,
} from '../http/paging.js';
import { Caller, type RequestCaller } from '../http/caller.js';
import { type TwinResponse, twinResponse } from './twin-response.js';
import { type TwinScanPosition } from '../../../libs/store/twin.repository.js';
import { TwinsService } from './twins.service.js';

const createTwinBody = z.strictObject({ description: z.unknown().optional() });
const updateTwinBody = z.strictObject({ description: z.unknown() });

type Query = Record<string, unknown>;

@ApiTags('twins')
@Controller('twins')
export class TwinsController {
  constructor(private readonly twins: TwinsService) {}

  @Post()
  @HttpCode(201)
  @RequiresAction('create_twin')
  @ApiZodBody(createTwinBody, 'description: keys ^[a-z_][0-9a-z_]{0,63}$, at most 64 KiB', false)
  @ApiOperation({ operationId: 'create_twin', summary: 'Create a twin owned by the caller’s account' })
  async create(@Caller() caller: RequestCaller, @Body() body: unknown): Promise<TwinResponse> {
    // A POST without a body is a twin with an empty description.
    const input = parseInput(createTwinBody, body ?? {});
    const description = input.description === undefined ? {} : input.description;
    assertValidDescription(description);
    return twinResponse(await this.twins.create(caller.principal, caller.actor, description));
  }

  @Get()
  @RequiresAction('scan_twins')
  @ApiOperation({ operationId: 'scan_twins', summary: 'Page through the twins the caller may see' })
  @ApiQuery({ name: 'count', required: false, description: '1–1000, default 100 (`limit` is an alias)' })
  @ApiQuery({ name: 'cursor', required: false, description: 'from the previous page' })
  @ApiQuery({ name: 'details', required: false, description: 'twin objects instead of UUIDs' })
  @ApiQuery({ name: 'updated_since', required: false, description: 'only twins with updated_ts >= this' })
  async scan(
    @Caller() caller: RequestCaller,
    @Query() query: Query,
  ): Promise<{ twins: string[] | TwinResponse[]; cursor: string | null }> {
    if (query.match !== undefined) {
      throw badRequest(
        'unsupported_parameter',
        "Parameter 'match' (rules over ledgers) is not supported by Twindex",
      );
    }
    const countName = query.count !== undefined ? 'count' : 'limit';
    const count = parseIntegerParameter(countName, query[countName], 1, 1000, 100);
    const details = parseDetails(query.details);
    const updatedSince = parseNumberParameter('updated_since', query.updated_since);
    const page = await this.twins.scan(caller.principal, {
      count,
      after: scanCursor(query.cursor),
      updatedSince,
    });
    return {
      twins: details ? page.twins.map(twinResponse) : page.twins.map((t) => t.uuid),
      cursor: page.next ? encodeCursor([page.next.updatedTs, page.next.uuid]) : null,
    };
  }

  @Get(':twin')
  @RequiresAction('get_twin')
  @ApiOperation({ operationId: 'get_twin', summary: 'A twin the caller may see' })
  @ApiParam({ name: 'twin', description: 'twin UUID' })
  @ApiQuery({
    name: 'show_terminated',
    required: false,
    description: 'default true; false → a terminated twin is 404',
  })
  async get(
    @Caller() caller: RequestCaller,
    @Param('twin') twin: string,
    @Query('show_terminated') showTerminatedRaw: unknown,
  ): Promise<TwinResponse> {
    const uuid = uuidPath(twin, 'Twin');
    const showTerminated = parseBooleanParameter('show_terminated', showTerminatedRaw, true);
    const found = await this.twins.get(caller.principal, uuid);
    // Trusted Twin's get_twin: with show_terminated=False a terminated twin is as good as absent.
    if (!showTerminated && found.status === 'terminated') throw notFound('Twin');
    return twinResponse(found);
  }

  @Patch(':twin')
  @RequiresAction('update_twin')
  @ApiZodBody(updateTwinBody, 'the new description, replacing the old one')
  @ApiOperation({ operationId: 'update_twin', summary: 'Replace the description (owner only, alive only)' })
  @ApiParam({ name: 'twin', description: 'twin UUID' })
  async update(
    @Caller() caller: RequestCaller,
    @Param('twin') twin: string,
    @Body() body: unknown,
  ): Promise<TwinResponse> {
    const uuid = uuidPath(twin, 'Twin');
    const { description } = parseInput(updateTwinBody, body);
    assertValidDescription(description);
    return twinResponse(
      await this.twins.updateDescription(caller.principal, caller.actor, uuid, description),
    );
  }

  @Delete(':twin')
  @RequiresAction('terminate_twin')
  @ApiOperation({ operationId: 'terminate_twin', summary: 'Terminate a twin (owner only)' })
  @ApiParam({ name: 'twin', description: 'twin UUID' })
  async terminate(@Caller() caller: RequestCaller, @Param('twin') twin: string): Promise<TwinResponse> {
    return twinResponse(await this.twins.terminate(caller.principal, caller.actor, uuidPath(twin, 'Twin')));
  }
}

function scanCursor(raw: unknown): TwinScanPosition | undefined {
  const parts = decodeCursor(raw);
  if (parts === undefined) return undefined;
  const [updatedTs, uuid] = parts;
  const normal = normalizeUuid(uuid);
  if (parts.length !== 2 || typeof updatedTs !== 'number' || !Number.isFinite(updatedTs) || normal === null) {
    throw badCursor();
  }
  return { updatedTs, uuid: normal };
}
