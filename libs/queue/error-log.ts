import { Logger } from '@nestjs/common';

/**
 * Logs Redis connection trouble of a queue or worker without flooding: while Redis restarts, BullMQ reports the same
 * error every reconnect attempt. One line per distinct message per 10 seconds.
 */
export function throttledErrorLog(context: string, intervalMs = 10_000): (error: Error) => void {
  const logger = new Logger(context);
  const last = new Map<string, number>();
  return (error: Error) => {
    const message = error?.message ?? String(error);
    const now = Date.now();
    if ((last.get(message) ?? 0) + intervalMs > now) return;
    if (last.size > 100) last.clear();
    last.set(message, now);
    logger.warn(`${context}: ${message}`);
  };
}
