import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { type AuditEntry, AuditLogRepository } from '../../../libs/store/audit-log.repository.js';
import { RequiresAction } from '../http/action.decorator.js';
import { badCursor, decodeCursor, encodeCursor, parseIntegerParameter } from '../http/paging.js';
import { Caller, type RequestCaller } from '../http/caller.js';

export interface LogEntryResponse {
  id: string;
  user: string | null;
  action: string;
  target_type: string;
  target: string;
  trace: string | null;
  created_ts: number;
  /** Same as created_ts; kept for clients of the first Twindex shape. */
  ts: number;
}

/** Trusted Twin's get_log shape (`fragment`, `messages`) with Twindex's structured entries beside it. */
export interface LogResponse {
  fragment: string | null;
  messages: string[];
  entries: LogEntryResponse[];
  /** Alias of `fragment`. */
  cursor: string | null;
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
  @ApiQuery({ name: 'fragment', required: false, description: 'from the previous page (Trusted Twin)' })
  @ApiQuery({ name: 'cursor', required: false, description: 'alias of fragment' })
  async list(@Caller() caller: RequestCaller, @Query() query: Record<string, unknown>): Promise<LogResponse> {
    const limit = parseIntegerParameter('limit', query.limit, 1, 1000, 100);
    const before = logCursor(
      query.fragment ?? query.cursor,
      query.fragment === undefined ? 'cursor' : 'fragment',
    );
    // One entry beyond the page proves there is a next page.
    const entries = await this.log.list(caller.principal.account, limit + 1, before);
    const page = entries.slice(0, limit).map(entryResponse);
    const next = entries.length > limit ? encodeCursor([page[page.length - 1].id]) : null;
    return { fragment: next, messages: page.map(logMessage), entries: page, cursor: next };
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
    created_ts: e.ts,
    ts: e.ts,
  };
}

/** One readable line per entry, as Trusted Twin's log messages are: time, who, what, on what, which request. */
function logMessage(e: LogEntryResponse): string {
  const when = new Date(e.created_ts * 1000).toISOString();
  return `${when} user=${e.user ?? '-'} ${e.action} ${e.target_type} ${e.target} trace=${e.trace ?? '-'}`;
}

function logCursor(raw: unknown, parameter: string): string | undefined {
  const parts = decodeCursor(raw, parameter);
  if (parts === undefined) return undefined;
  const [id] = parts;
  if (parts.length !== 1 || typeof id !== 'string' || !/^[1-9]\d{0,17}$/.test(id)) throw badCursor(parameter);
  return id;
}
