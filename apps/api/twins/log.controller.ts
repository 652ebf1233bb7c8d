import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { type AuditEntry, AuditLogRepository } from '../../../libs/store/audit-log.repository.js';
import { RequiresAction } from '../http/action.decorator.js';
import { badCursor, decodeCursor, encodeCursor, parseIntegerParameter } from './paging.js';
import { Caller, type RequestCaller } from './request-caller.js';

export interface LogEntryResponse {
  id: string;
  user: string | null;
  action: string;
  target_type: string;
  target: string;
  trace: string | null;
  ts: number;
}

@ApiTags('log')
@Controller('log')
export class LogController {
  constructor(private readonly log: AuditLogRepository) {}

  /** The caller's account's audit trail of writes, newest first. */
  @Get()
  @RequiresAction('get_log')
  @ApiOperation({ operationId: 'get_log', summary: 'The account’s audit trail of writes, newest first' })
  @ApiQuery({ name: 'limit', required: false, description: '1–1000, default 100' })
  @ApiQuery({ name: 'cursor', required: false, description: 'from the previous page' })
  async list(
    @Caller() caller: RequestCaller,
    @Query() query: Record<string, unknown>,
  ): Promise<{ entries: LogEntryResponse[]; cursor: string | null }> {
    const limit = parseIntegerParameter('limit', query.limit, 1, 1000, 100);
    const before = logCursor(query.cursor);
    // One entry beyond the page proves there is a next page.
    const entries = await this.log.list(caller.principal.account, limit + 1, before);
    const page = entries.slice(0, limit);
    return {
      entries: page.map(entryResponse),
      cursor: entries.length > limit ? encodeCursor([page[page.length - 1].id]) : null,
    };
  }
}

function entryResponse(e: AuditEntry): LogEntryResponse {
  return {
    id: e.id,
    user: e.user,
    action: e.action,
    target_type: e.targetType,
    target: e.target,
    trace: e.trace,
    ts: e.ts,
  };
}

function logCursor(raw: unknown): string | undefined {
  const parts = decodeCursor(raw);
  if (parts === undefined) return undefined;
  const [id] = parts;
  if (parts.length !== 1 || typeof id !== 'string' || !/^[1-9]\d{0,17}$/.test(id)) throw badCursor();
  return id;
}
