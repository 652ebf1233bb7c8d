import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** Serves a request itself and answers true, or answers false to leave it to Fastify. */
export type LeanHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

interface ServerOptions {
  keepAliveTimeout?: number;
  requestTimeout?: number;
  connectionTimeout?: number;
}

/**
 * The one place where a request can bypass the framework: Fastify's `serverFactory` hands every request to
 * `dispatch`, which offers it to the lean handler first (GET /resolve/{identity}, the RFID-gate hot path) and to
 * Fastify otherwise. The handler is installed once the Nest application is built (it needs its services).
 */
export class LeanDispatch {
  private handler: LeanHandler | undefined;

  install(handler: LeanHandler): void {
    this.handler = handler;
  }

  /** For FastifyAdapter's `serverFactory` option; sets the timeouts Fastify would set on a server it made. */
  readonly serverFactory = (
    fastifyHandler: (req: IncomingMessage, res: ServerResponse) => void,
    options: ServerOptions,
  ): Server => {
    const server = createServer((req, res) => {
      const lean = this.handler;
      if (lean === undefined || !lean(req, res)) fastifyHandler(req, res);
    });
    server.keepAliveTimeout = options.keepAliveTimeout ?? 72_000;
    server.requestTimeout = options.requestTimeout ?? 0;
    server.setTimeout(options.connectionTimeout ?? 0);
    return server;
  };
}
