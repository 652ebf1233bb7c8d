import { Controller, Get, Param, Query, Req } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { notFound } from '../../../libs/domain/errors.js';
import { InvalidParameterError } from '../../../libs/domain/visibility/query-parameters.js';
import { importView, ImportsRepository, type ImportView } from '../../../libs/imports/imports.repository.js';
import { RequiresAction } from '../http/action.decorator.js';
import { accountOf } from '../http/caller.js';
import { uuidPath } from '../http/path-id.js';

/** Import reports (docs/imports.md "The report"); `POST /imports` is the lean route in import.route.ts. */
@ApiTags('imports')
@ApiSecurity('secret')
@Controller('imports')
export class ImportsController {
  constructor(private readonly imports: ImportsRepository) {}

  @Get()
  @RequiresAction('get_imports')
  @ApiOperation({ operationId: 'get_imports', summary: "The account's imports, newest first" })
  @ApiQuery({ name: 'limit', required: false, description: '1–1000, default 100' })
  async list(
    @Req() req: FastifyRequest,
    @Query() query: Record<string, unknown>,
  ): Promise<{ imports: ImportView[] }> {
    let limit = 100;
    if (query.limit !== undefined) {
      limit = typeof query.limit === 'string' && /^\d{1,4}$/.test(query.limit) ? Number(query.limit) : 0;
      if (limit < 1 || limit > 1000)
        throw new InvalidParameterError('limit', 'must be an integer from 1 to 1000');
    }
    const rows = await this.imports.list(accountOf(req), limit);
    return { imports: rows.map(importView) };
  }

  @Get(':id')
  @RequiresAction('get_import')
  @ApiOperation({ operationId: 'get_import', summary: 'One import: status, progress, counts, bad lines' })
  async get(@Req() req: FastifyRequest, @Param('id') id: string): Promise<ImportView> {
    const row = await this.imports.find(uuidPath(id, 'Import'));
    // Another account's import is not found, like one that does not exist.
    if (!row || row.account !== accountOf(req)) throw notFound('Import');
    return importView(row);
  }
}
