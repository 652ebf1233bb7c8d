import 'reflect-metadata';
import type { IncomingMessage } from 'node:http';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { type TwindexConfig } from '../../libs/config/index.js';
import { PinoNestLogger, processLogger } from '../../libs/observability/pino-nest-logger.js';
import { AppModule } from './app.module.js';
import { treatEmptyBodiesAsAbsent } from './http/absent-body.js';
import { acceptJsonBodiesOnly } from './http/json-bodies.js';
import './http/fastify-augment.js';
import { assertWellFormedBody } from './http/well-formed-text.js';
import { sharedLogDestination } from '../../libs/logging/buffered-log-destination.js';
import { BodyDeadline } from './http/body-deadline.js';
import { clientErrorHandler } from './http/client-errors.js';
import { connectionBudget, readDescriptorLimit } from './http/connection-budget.js';
import { traceOfRequest } from './http/edge-answer.js';
import { LeanDispatch } from './http/lean-dispatch.js';
import { RequestAccounting } from './http/request-accounting.js';
import { sendError } from './http/send-error.js';
import { ApiMetrics } from './metrics/metrics.registry.js';
import { QueueDashboard } from './queues/queue-dashboard.js';
import { mountApiDocument } from './openapi/index.js';
import { ResolveRoute } from './resolve/resolve.route.js';
import { IMPORT_ROUTE_PATH } from './imports/import.route.js';

/** docs/http.md: bodies over 64 KiB are bad input, except imports which stream up to their own limit. */
export const BODY_LIMIT_BYTES = 64 * 1024;

export interface ApiAppOptions {
  /**
   * Serve the browsable Swagger UI page at /docs (the JSON document is always served). Tests turn it off:
   * its static-file plugin needs require(esm), which Jest's module runtime lacks on Node 20.
   */
  docsUi?: boolean;
  /**
   * Serve the Bull Board UI at /queues (operator only). Tests turn it off for the same reason as `docsUi`; the
   * gate and login form at /queues are mounted either way.
   */
  queueDashboard?: boolean;
  /** Where log lines go instead of stdout (tests read them back). */
  logFile?: string;
}

/** Builds the API application without listening, so tests and main share one composition. */
export async function createApiApp(
  config: TwindexConfig,
  options: ApiAppOptions = {},
): Promise<NestFastifyApplication> {
  const errorLogger = new Logger('http');
  const log = sharedLogDestination(options.logFile);
  // Answers given before routing are accounted too; the accounting exists once the application is built.
  const edge: { accounting?: RequestAccounting } = {};
  const budget = connectionBudget(
    { maxConnections: config.HTTP_MAX_CONNECTIONS, perAddress: config.HTTP_MAX_CONNECTIONS_PER_ADDRESS },
    readDescriptorLimit(),
  );
  const lean = new LeanDispatch({
    headersTimeoutMs: config.HTTP_HEADERS_TIMEOUT_MS,
    idleTimeoutMs: config.HTTP_IDLE_TIMEOUT_MS,
    keepAliveTimeoutMs: config.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    maxConnections: budget.maxConnections,
    perAddress: budget.perAddress,
    bodyDeadline: new BodyDeadline(config.HTTP_REQUEST_TIMEOUT_MS, isStreamedUpload, () => edge.accounting),
  });
  const adapter = new FastifyAdapter({
    // GET /resolve/{identity} is served before Fastify sees the request (see ResolveRoute and README "Hot path").
    serverFactory: lean.serverFactory,
    // No Nest middleware is used; without middie every request skips its hook.
    skipMiddie: true,
    // A valid identity name is up to 137 characters; Fastify's default parameter limit (100) would answer 414.
    routerOptions: { maxParamLength: 1024 },
    // Failures before routing (bad percent-encoding) get our error shape too; onRequest has not run yet.
    // Fastify runs no onResponse hook for these, so their request line is written here.
    frameworkErrors: (err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      void reply.header('x-request-id', request.id);
      sendError(request, reply, err, errorLogger);
      edge.accounting?.record(
        request.method,
        'unmatched',
        reply.statusCode,
        reply.elapsedTime,
        String(request.id),
        undefined,
      );
    },
    // What node rejects before there is a request (431, unparsable HTTP, headers deadline): our shape, logged.
    clientErrorHandler: clientErrorHandler(() => edge.accounting),
    bodyLimit: BODY_LIMIT_BYTES,
    // An incoming X-Request-Id or traceparent trace id is kept as the trace (validated: it reaches log lines).
    genReqId: (req: IncomingMessage) => traceOfRequest(req),
    requestIdHeader: false,
    // Fastify's two lines per request are replaced by our one line (onResponse below).
    logController: new LogController({ disableRequestLogging: true }),
    // No per-request child logger (Fastify would serialise one per request): our request line carries the trace id.
    childLoggerFactory: (logger: FastifyBaseLogger) => logger,
    logger:
      config.LOG_LEVEL === 'silent'
        ? false
        : {
            level: config.LOG_LEVEL,
            // Batched writes with a timed flush: one write(2) per request line would cost a third of a cached
            // resolution. Lines reach the output within 200 ms; flushed on close and at exit.
            stream: log,
            // Secrets travel in these headers; they must never reach a log line.
            redact: [
              'req.headers.authorization',
              'req.headers["x-webhook-token"]',
              'req.headers["x-operator-key"]',
            ],
          },
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    // Nest's own messages go through pino too, into the same buffered stream as the request lines.
    logger:
      config.LOG_LEVEL === 'silent' ? false : new PinoNestLogger(processLogger('api', config.LOG_LEVEL, log)),
    bufferLogs: false,
  });
  const fastify = app.getHttpAdapter().getInstance();
  treatEmptyBodiesAsAbsent(app, BODY_LIMIT_BYTES);
  acceptJsonBodiesOnly(app, errorLogger);

  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    done();
  });
  // Every parsed body, before any handler: a lone surrogate is bad input (400), never a database failure.
  fastify.addHook('preValidation', (request, reply, done) => {
    try {
      assertWellFormedBody(request.body);
    } catch (err) {
      sendError(request, reply, err, errorLogger);
      return;
    }
    done();
  });
  const logRequests = config.LOG_LEVEL !== 'silent' && LEVELS[config.LOG_LEVEL] <= LEVELS.info;
  // Shutdown writes out what is still buffered (Nest re-raises SIGTERM after closing, and that skips 'exit').
  fastify.addHook('onClose', (_instance, done) => {
    log.flushSync();
    done();
  });
  const requests = new RequestAccounting(app.get(ApiMetrics).requests, logRequests ? log : undefined);
  edge.accounting = requests;
  if (budget.warning !== undefined) errorLogger.warn(budget.warning);
  errorLogger.log(
    `connections: at most ${budget.maxConnections}, ${budget.perAddress} per client address ` +
      `(open-files soft limit ${budget.softLimit ?? 'unknown'})`,
  );
  fastify.addHook('onResponse', (request, reply, done) => {
    // Unmatched paths share one label so scanners cannot blow up the metric's cardinality.
    const route = request.routeOptions.url ?? 'unmatched';
    requests.record(
      request.method,
      route,
      reply.statusCode,
      reply.elapsedTime,
      String(request.id),
      request.principal?.account,
    );
    done();
  });
  lean.install(app.get(ResolveRoute).leanHandler(requests));

  mountApiDocument(app, { ui: options.docsUi ?? true });
  await app.get(QueueDashboard).mount({ ui: options.queueDashboard ?? true });
  return app;
}

/** Import bodies stream for as long as they keep flowing; the request deadline would cut large ones. */
function isStreamedUpload(req: IncomingMessage): boolean {
  if (req.method !== 'POST' || req.url === undefined) return false;
  const path = req.url.split('?')[0];
  return path === IMPORT_ROUTE_PATH || path === `${IMPORT_ROUTE_PATH}/`;
}

const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: 100 } as const;
