import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type BodyDeadline } from './body-deadline.js';
import { capConnections } from './connection-caps.js';

/** Serves a request itself and answers true, or answers false to leave it to Fastify. */
export type LeanHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

/** The HTTP limits of docs/http.md "Limits", set on the server this factory makes. */
export interface HttpEdges {
  headersTimeoutMs: number;
  idleTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxConnections: number;
  perAddress: number;
  bodyDeadline: BodyDeadline;
}

/**
 * How often node looks for requests past their headers deadline (its default, 30 s, would let a deadline of 10 s
 * run to 40 s).
 */
const DEADLINE_CHECK_INTERVAL_MS = 1000;

/**
 * The one place where a request can bypass the framework: Fastify's `serverFactory` hands every request to
 * `dispatch`, which offers it to the lean handler first (GET /resolve/{identity}, the RFID-gate hot path) and to
 * Fastify otherwise. The handler is installed once the Nest application is built (it needs its services).
 */
export class LeanDispatch {
  private handler: LeanHandler | undefined;

  constructor(private readonly edges: HttpEdges) {}

  install(handler: LeanHandler): void {
    this.handler = handler;
  }

  /** For FastifyAdapter's `serverFactory` option; the server's limits come from the configuration, not Fastify. */
  readonly serverFactory = (fastifyHandler: (req: IncomingMessage, res: ServerResponse) => void): Server => {
    const edges = this.edges;
    const server = createServer({ connectionsCheckingInterval: DEADLINE_CHECK_INTERVAL_MS }, (req, res) => {
      const lean = this.handler;
      if (lean !== undefined && lean(req, res)) return;
      edges.bodyDeadline.watch(req, res);
      fastifyHandler(req, res);
    });
    // Node's own total-request deadline is off: it would cut streamed imports too (see BodyDeadline).
    server.requestTimeout = 0;
    server.headersTimeout = edges.headersTimeoutMs;
    server.keepAliveTimeout = edges.keepAliveTimeoutMs;
    // A socket that carries nothing for this long is closed, mid-request or not (a streamed body that keeps
    // flowing keeps it open).
    server.setTimeout(edges.idleTimeoutMs);
    capConnections(server, edges.perAddress, edges.maxConnections);
    return server;
  };
}
