import { Controller, Get, Param, Query, Req } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { normalizeUuid } from '../../../libs/domain/identity/uuid.js';
import { InvalidParameterError } from '../../../libs/domain/visibility/query-parameters.js';
import { RequiresAction } from '../http/action.decorator.js';
import { accountOf } from '../http/caller.js';
import { uuidPath } from '../http/path-id.js';
import { SyncSourcesService } from './sync-sources.service.js';
import type { RunView } from './sync-views.js';

@ApiTags('sync')
@ApiSecurity('secret')
@Controller('sync/runs')
export class SyncRunsController {
  constructor(private readonly sync: SyncSourcesService) {}

  @Get()
  @RequiresAction('get_sync_runs')
  @ApiOperation({ operationId: 'get_sync_runs', summary: "The account's run reports, newest first" })
  @ApiQuery({ name: 'source', required: false, description: 'only runs of this source' })
  @ApiQuery({ name: 'limit', required: false, description: '1–1000, default 100' })
  async list(
    @Req() req: FastifyRequest,
    @Query() query: Record<string, unknown>,
  ): Promise<{ runs: RunView[] }> {
    let source: string | undefined;
    if (query.source !== undefined) {
      source = normalizeUuid(query.source) ?? undefined;
      if (source === undefined) throw new InvalidParameterError('source', 'must be a sync source UUID');
    }
    let limit = 100;
    if (query.limit !== undefined) {
      limit = typeof query.limit === 'string' && /^\d{1,4}$/.test(query.limit) ? Number(query.limit) : 0;
      if (limit < 1 || limit > 1000)
        throw new InvalidParameterError('limit', 'must be an integer from 1 to 1000');
    }
    return { runs: await this.sync.listRuns(accountOf(req), { source, limit }) };
  }

  @Get(':id')
  @RequiresAction('get_sync_runs')
  @ApiOperation({ operationId: 'get_sync_run', summary: 'One run report' })
  get(@Req() req: FastifyRequest, @Param('id') id: string): Promise<RunView> {
    return this.sync.getRun(accountOf(req), uuidPath(id, 'Sync run'));
  }
}
