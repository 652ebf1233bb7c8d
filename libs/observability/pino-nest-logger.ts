import type { LoggerService } from '@nestjs/common';
import { pino, type DestinationStream, type Logger as Pino, type Level } from 'pino';
import { FRAMEWORK_START_UP_CONTEXTS } from './ready-line.js';

type LevelName = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** A pino logger for a whole process: the same JSON line format as the request lines, `name` = api or worker. */
export function processLogger(name: string, level: LevelName, stream?: DestinationStream): Pino {
  return pino(
    {
      name,
      level,
      // Secrets travel in these fields when a header object is logged; they must never reach a line.
      redact: ['req.headers.authorization', 'req.headers["x-webhook-token"]', 'headers.authorization'],
    },
    stream ?? pino.destination({ dest: 1, sync: true }),
  );
}

/**
 * Nest's logger interface on top of pino, so that Nest's own messages (bootstrap, module errors) and every
 * `new Logger(context)` in our code come out as pino JSON lines like the rest — one format per process.
 * Nest passes the context as the last optional parameter and, for errors, a stack before it.
 */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly pino: Pino) {}

  log(message: unknown, ...rest: unknown[]): void {
    const context = rest[rest.length - 1];
    const chatter = typeof context === 'string' && FRAMEWORK_START_UP_CONTEXTS.has(context);
    this.write(chatter ? 'debug' : 'info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('trace', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }

  private write(level: Level, message: unknown, rest: unknown[]): void {
    if (!this.pino.isLevelEnabled(level)) return;
    const params = [...rest];
    const context = typeof params[params.length - 1] === 'string' ? (params.pop() as string) : undefined;
    const fields: Record<string, unknown> = {};
    if (context) fields.context = context;
    if (level === 'error' || level === 'fatal') {
      const stack = params.find((p): p is string => typeof p === 'string' && p.includes('\n    at '));
      if (stack) fields.stack = stack;
    }
    if (message instanceof Error) {
      fields.err = message;
      this.pino[level](fields, message.message);
    } else if (typeof message === 'object' && message !== null) {
      this.pino[level]({ ...fields, ...(message as Record<string, unknown>) });
    } else {
      this.pino[level](fields, String(message));
    }
  }
}
