import { Logger } from '@nestjs/common';
import type { DestinationStream, Logger as Pino } from 'pino';
import type { TwindexConfig } from '../config/index.js';
import { PinoNestLogger, processLogger } from './pino-nest-logger.js';

/**
 * The process logger, installed as Nest's static logger before anything logs, so that even the first lines of
 * start-up are pino JSON (never Nest's coloured text).
 */
export function installProcessLogger(
  name: string,
  config: TwindexConfig,
  stream?: DestinationStream,
): { pino: Pino; nest: PinoNestLogger } {
  const pino = processLogger(name, config.LOG_LEVEL, stream);
  const nest = new PinoNestLogger(pino);
  Logger.overrideLogger(nest);
  return { pino, nest };
}

/** PostgreSQL and Redis answers that no amount of waiting will change. */
const PERMANENT_PG_CODES: Record<string, string> = {
  '28P01': 'PostgreSQL refused the password (DATABASE_URL)',
  '28000': 'PostgreSQL refused the role or authentication method (DATABASE_URL)',
  '3D000': 'the database does not exist and could not be created (DATABASE_URL)',
  '42501': 'the PostgreSQL role lacks a privilege it needs (DATABASE_URL)',
};

/**
 * Why start-up cannot succeed by retrying, in one line, or undefined when the failure may heal (a dependency not up
 * yet, a name not resolvable yet while containers start).
 */
export function permanentStartupFailure(e: unknown): string | undefined {
  const err = e as { code?: unknown; message?: unknown; port?: unknown };
  const code = typeof err?.code === 'string' ? err.code : undefined;
  const message = typeof err?.message === 'string' ? err.message.split('\n')[0] : String(e);
  if (code && PERMANENT_PG_CODES[code]) return `${PERMANENT_PG_CODES[code]}: ${message}`;
  if (code === 'EADDRINUSE') return `port already in use: ${message}`;
  if (code === 'EACCES') return `not allowed to listen: ${message}`;
  if (code === 'ERR_INVALID_URL' || /Invalid URL/i.test(message)) return `malformed URL: ${message}`;
  if (/WRONGPASS|NOAUTH|invalid username-password/i.test(message))
    return `Redis refused the credentials (REDIS_URL)`;
  return undefined;
}

/** One fatal line and exit 1: for what start-up cannot recover from. */
export function exitOnStartupFailure(pino: Pino, processName: string, e: unknown): never {
  const reason = permanentStartupFailure(e) ?? (e as Error)?.message?.split('\n')[0] ?? String(e);
  pino.fatal(`${processName} cannot start: ${reason}`);
  pino.flush?.();
  process.exit(1);
}
