import 'reflect-metadata';
import type { IncomingMessage } from 'node:http';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
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
import './http/fastify-augment.js';
import { formatRequestLine, logDestination } from './http/request-log.js';
import { sendError } from './http/send-error.js';
import { traceOf } from './http/trace-id.js';
import { completeDocument } from './openapi/complete-document.js';
import { ApiMetrics } from './metrics/metrics.registry.js';
import { QueueDashboard } from './queues/queue-dashboard.js';
import { addLeanRoutesToDocument } from './twins/openapi-extras.js';

/** api.md: bodies over 64 KiB are bad input, except imports which stream up to their own limit. */
export const BODY_LIMIT_BYTES = 64 * 1024;

export interface ApiAppOptions {
  /**
   * Serve the browsable Swagger UI page at /docs (the JSON document is always served). Tests turn it off:
   * its static-file plugin needs require(esm), which Jest's module runtime lacks on Node 20.
   */
  docsUi?: boolean;
  /** Serve the Bull Board dashboard at /queues (Admin only). Tests turn it off for the same reason as `docsUi`. */
  queueDashboard?: boolean;
}

/** Builds the API application without listening, so tests and main share one composition. */
export async function createApiApp(
  config: TwindexConfig,
  options: ApiAppOptions = {},
): Promise<NestFastifyApplication> {
  const errorLogger = new Logger('http');
  const adapter = new FastifyAdapter({
    // No Nest middleware is used; without middie every request skips its hook.
    skipMiddie: true,
    // A valid identity name is up to 137 characters; Fastify's default parameter limit (100) would answer 414.
    routerOptions: { maxParamLength: 1024 },
    // Failures before routing (bad percent-encoding) get our error shape too; onRequest has not run yet.
    frameworkErrors: (err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      void reply.header('x-request-id', request.id);
      sendError(request, reply, err, errorLogger);
    },
    bodyLimit: BODY_LIMIT_BYTES,
    // An incoming X-Request-Id or traceparent trace id is kept as the trace (validated: it reaches log lines).
    genReqId: (request: IncomingMessage) => traceOf(request.headers),
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
            // Buffered, asynchronous writes: one synchronous write(2) per request line would cost a third of a
            // cached resolution. Flushed on shutdown; at most a few KiB can be lost if the process is killed.
            stream: logDestination(),
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
      config.LOG_LEVEL === 'silent'
        ? false
        : new PinoNestLogger(processLogger('api', config.LOG_LEVEL, logDestination())),
    bufferLogs: false,
  });
  const fastify = app.getHttpAdapter().getInstance();

  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    done();
  });
  const metrics = app.get(ApiMetrics);
  const logRequests = config.LOG_LEVEL !== 'silent' && LEVELS[config.LOG_LEVEL] <= LEVELS.info;
  const log = logDestination();
  fastify.addHook('onResponse', (request, reply, done) => {
    // Unmatched paths share one label so scanners cannot blow up the metric's cardinality.
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.observe(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    // One line per request; the account comes from the verified principal, never from a header.
    if (logRequests) {
      log.write(
        formatRequestLine(
          {
            method: request.method,
            route,
            status: reply.statusCode,
            durationMs: reply.elapsedTime,
            trace: String(request.id),
            account: request.principal?.account,
          },
          Date.now(),
        ),
      );
    }
    done();
  });

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Twindex')
      .setDescription('Identity resolution and indexing for digital twins')
      .setVersion('0.1.0')
      .build(),
  );
  addLeanRoutesToDocument(document);
  completeDocument(document);
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'docs/openapi.json',
    ui: options.docsUi ?? true,
  });
  if (options.queueDashboard ?? true) await app.get(QueueDashboard).mount();
  return app;
}

const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: 100 } as const;
