import type { IncomingMessage, ServerResponse } from 'node:http';
import { answerAndClose, type EdgeAccounting, UNROUTED } from './edge-answer.js';

/**
 * The request deadline of docs/http.md "Limits": a request whose body has not fully arrived `timeoutMs` after its
 * headers is answered `408 request_timeout` and its connection closed, so a body that never completes cannot hold
 * a connection. node's own `requestTimeout` would do the same but for every route alike; streamed routes (imports)
 * are exempt here and bounded instead by their progress window (IMPORT_MIN_UPLOAD_BYTES per IMPORT_UPLOAD_WINDOW_MS)
 * and the idle-socket timeout, so a large upload that keeps flowing is never cut.
 */
export class BodyDeadline {
  constructor(
    private readonly timeoutMs: number,
    private readonly isStreamed: (req: IncomingMessage) => boolean,
    private readonly accounting: () => EdgeAccounting | undefined,
  ) {}

  watch(req: IncomingMessage, res: ServerResponse): void {
    if (req.complete || this.isStreamed(req)) return;
    const began = performance.now();
    const timer = setTimeout(() => {
      if (req.complete || res.headersSent || res.destroyed) return;
      const trace = answerAndClose(
        req,
        res,
        408,
        'request_timeout',
        `The request body did not arrive within ${this.timeoutMs} ms`,
      );
      this.accounting()?.record(
        req.method ?? '-',
        UNROUTED,
        408,
        performance.now() - began,
        trace,
        undefined,
      );
    }, this.timeoutMs);
    timer.unref();
    const stop = () => clearTimeout(timer);
    req.once('end', stop);
    res.once('close', stop);
  }
}
