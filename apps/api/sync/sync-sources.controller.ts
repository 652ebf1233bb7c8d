import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  Req,
} from '@nestjs/common';
import { ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { AbuseLimiter } from '../../../libs/admission/abuse-limiter.js';
import { TwindexError } from '../../../libs/domain/errors.js';
import { OwnCredential, RequiresAction } from '../http/action.decorator.js';
import { parseInput } from '../http/validate.js';
import { ApiZodBody } from '../http/openapi-body.js';
import { createSourceSchema, startRunSchema, updateSourceSchema, webhookBodySchema } from './source-body.js';
import { accountOf } from '../http/caller.js';
import { uuidPath } from '../http/path-id.js';
import { SyncSourcesService } from './sync-sources.service.js';
import type { RunView, SourceView } from './sync-views.js';

@ApiTags('sync')
@Controller('sync/sources')
export class SyncSourcesController {
  constructor(
    private readonly sync: SyncSourcesService,
    private readonly limiter: AbuseLimiter,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiSecurity('secret')
  @RequiresAction('create_sync_source')
  @ApiOperation({
    operationId: 'create_sync_source',
    summary: 'Create a sync source; the answer carries the webhook token, shown this once',
  })
  @ApiZodBody(createSourceSchema)
  create(@Req() req: FastifyRequest, @Body() body: unknown): Promise<SourceView & { webhook_token: string }> {
    return this.sync.create(accountOf(req), parseInput(createSourceSchema, body));
  }

  @Get()
  @ApiSecurity('secret')
  @RequiresAction('get_sync_sources')
  @ApiOperation({ operationId: 'get_sync_sources', summary: "The account's sync sources, oldest first" })
  async list(@Req() req: FastifyRequest): Promise<{ sources: SourceView[] }> {
    return { sources: await this.sync.list(accountOf(req)) };
  }

  @Get(':id')
  @ApiSecurity('secret')
  @RequiresAction('get_sync_source')
  @ApiOperation({ operationId: 'get_sync_source', summary: 'One sync source (never its secret)' })
  get(@Req() req: FastifyRequest, @Param('id') id: string): Promise<SourceView> {
    return this.sync.get(accountOf(req), uuidPath(id, 'Sync source'));
  }

  @Patch(':id')
  @ApiSecurity('secret')
  @RequiresAction('update_sync_source')
  @ApiOperation({
    operationId: 'update_sync_source',
    summary: 'Change a sync source; attributes given replace',
  })
  @ApiZodBody(updateSourceSchema)
  update(@Req() req: FastifyRequest, @Param('id') id: string, @Body() body: unknown): Promise<SourceView> {
    const uuid = uuidPath(id, 'Sync source');
    return this.sync.update(accountOf(req), uuid, parseInput(updateSourceSchema, body ?? {}));
  }

  @Delete(':id')
  @ApiSecurity('secret')
  @RequiresAction('delete_sync_source')
  @ApiOperation({
    operationId: 'delete_sync_source',
    summary: 'Delete a sync source and every row it synced',
  })
  delete(@Req() req: FastifyRequest, @Param('id') id: string): Promise<SourceView> {
    return this.sync.delete(accountOf(req), uuidPath(id, 'Sync source'));
  }

  @Post(':id/runs')
  @HttpCode(202)
  @ApiSecurity('secret')
  @RequiresAction('start_sync')
  @ApiOperation({
    operationId: 'start_sync',
    summary: 'Start a full or incremental run; answers the queued run',
  })
  @ApiZodBody(startRunSchema, undefined, false)
  startRun(@Req() req: FastifyRequest, @Param('id') id: string, @Body() body: unknown): Promise<RunView> {
    const uuid = uuidPath(id, 'Sync source');
    const { mode } = parseInput(startRunSchema, body ?? {});
    return this.sync.startRun(accountOf(req), uuid, mode ?? 'full');
  }

  @Get(':id/runs')
  @ApiSecurity('secret')
  @RequiresAction('get_sync_runs')
  @ApiOperation({
    operationId: 'get_sync_source_runs',
    summary: "The source's run reports, newest first (50)",
  })
  async runs(@Req() req: FastifyRequest, @Param('id') id: string): Promise<{ runs: RunView[] }> {
    return {
      runs: await this.sync.listRuns(accountOf(req), { source: uuidPath(id, 'Sync source'), limit: 50 }),
    };
  }

  @Post(':id/webhook')
  @HttpCode(202)
  @OwnCredential('webhook-token')
  @ApiOperation({
    operationId: 'sync_webhook',
    summary:
      'Upstream events naming twins (X-Webhook-Token); each named twin is synced, debounced. Wrong tokens count as failed logins of the address (429 with Retry-After); an event beyond the pending syncs a source or account may have is refused whole (429 backlog_full with Retry-After)',
  })
  @ApiZodBody(webhookBodySchema, 'an event object, or an array of them, each naming a twin UUID')
  async webhook(
    @Param('id') id: string,
    @Headers('x-webhook-token') token: string | undefined,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    // Notification callbacks cannot set headers: the token may come in the URL instead (never logged: the request
    // line names the route, not the URL).
    @Query('token') queryToken?: string,
  ): Promise<{ queued: number }> {
    try {
      return await this.sync.webhook(id, token ?? queryToken, body);
    } catch (err) {
      // A wrong token is a failed authentication: counted against the address like a wrong secret (429 once
      // spent), so the public intake cannot be used to guess tokens or to load the database for free.
      if (err instanceof TwindexError && err.kind === 'unauthorized')
        await this.limiter.recordFailure(request.ip);
      throw err;
    }
  }
}
