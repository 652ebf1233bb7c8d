import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AuthService } from '../../../libs/access/auth.service.js';
import { badRequest, TwindexError } from '../../../libs/domain/errors.js';
import { ImportProducer } from '../../../libs/imports/import-producer.js';
import { type ImportFormat, LineSplitter, type ReceivedLine } from '../../../libs/imports/import-lines.js';
import { ImportsRepository } from '../../../libs/imports/imports.repository.js';
import { Db } from '../../../libs/store/db.js';
import { authenticateRequest } from '../http/auth.guard.js';
import { sendError } from '../http/send-error.js';
import { nowSeconds } from '../../../libs/store/clock.js';

export const IMPORT_ROUTE_PATH = '/imports';

/** sync.md: an import body streams up to 1 GiB. */
export const IMPORT_BODY_LIMIT_BYTES = 1024 * 1024 * 1024;

/** Bodies the route buffers (a wrong content type) stay at the API's 64 KiB (api-app.ts BODY_LIMIT_BYTES). */
const BUFFERED_BODY_LIMIT_BYTES = 64 * 1024;

/** Lines (or characters, whichever fills first) per staging INSERT. */
const STAGE_BATCH_LINES = 5_000;
const STAGE_BATCH_CHARS = 4 * 1024 * 1024;

const MEDIA_TYPES: Record<string, ImportFormat> = {
  'application/x-ndjson': 'ndjson',
  'text/csv': 'csv',
};

function formatOf(contentType: string | undefined): ImportFormat | undefined {
  const essence = (contentType ?? '').split(';')[0].trim().toLowerCase();
  return MEDIA_TYPES[essence];
}

const tooLarge = () =>
  new TwindexError(
    'payload_too_large',
    'payload_too_large',
    `An import body is limited to ${IMPORT_BODY_LIMIT_BYTES} bytes`,
  );

/**
 * `POST /imports` registered on Fastify itself: its body is not parsed but streamed, line by line, into the
 * staging table (one transaction: the import exists once its whole body is stored), then the merge is enqueued.
 *
 * The NDJSON and CSV content-type parsers hand the raw request stream through. Fastify applies `bodyLimit` only to
 * the parsers that buffer (JSON, text), so the route keeps the API's 64 KiB for those (a wrong type is a small
 * `400`), and the 1 GiB import limit is counted here, on the stream (`413`).
 */
@Injectable()
export class ImportRoute implements OnModuleInit {
  private readonly logger = new Logger('imports');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly auth: AuthService,
    private readonly db: Db,
    private readonly imports: ImportsRepository,
    private readonly producer: ImportProducer,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    for (const type of Object.keys(MEDIA_TYPES)) {
      fastify.addContentTypeParser(type, (_request, payload, done) => done(null, payload));
    }
    fastify.post(IMPORT_ROUTE_PATH, { bodyLimit: BUFFERED_BODY_LIMIT_BYTES }, (request, reply) =>
      this.handle(request, reply).catch((err: unknown) => {
        // The client may still be sending: do not keep the connection for another request.
        if (!reply.sent) void reply.header('connection', 'close');
        sendError(request, reply, err, this.logger);
      }),
    );
  }

  private async handle(request: FastifyRequest, reply: FastifyReply): Promise<string> {
    const admitted = authenticateRequest(this.auth, request, 'create_import');
    const principal = admitted instanceof Promise ? await admitted : admitted;
    request.principal = principal;
    const format = formatOf(request.headers['content-type']);
    if (format === undefined || !isStream(request.body)) {
      throw badRequest('invalid_content_type', 'An import body is application/x-ndjson or text/csv');
    }
    const declared = Number(request.headers['content-length']);
    if (declared > IMPORT_BODY_LIMIT_BYTES) throw tooLarge();
    const body = request.body;
    const uuid = randomUUID();
    await this.db.transaction(async (tx) => {
      await this.imports.create(tx, {
        uuid,
        account: principal.account,
        creator: principal.user,
        format,
        createdTs: nowSeconds(),
      });
      const splitter = new LineSplitter();
      let batch: ReceivedLine[] = [];
      let chars = 0;
      let received = 0;
      let bytes = 0;
      let inflight: Promise<void> = Promise.resolve();
      const add = async (lines: ReceivedLine[], force: boolean) => {
        for (const l of lines) {
          batch.push(l);
          chars += l.raw?.length ?? 0;
        }
        if (batch.length === 0 || (!force && batch.length < STAGE_BATCH_LINES && chars < STAGE_BATCH_CHARS))
          return;
        // A CSV body's line 1 is its header, not an identity line.
        received += batch.length - (format === 'csv' && batch[0].line === 1 ? 1 : 0);
        const full = batch;
        batch = [];
        chars = 0;
        // One INSERT in flight while the next batch is read from the socket.
        await inflight;
        inflight = this.imports.stage(tx, uuid, full);
        inflight.catch(() => undefined);
      };
      for await (const chunk of body) {
        const buf = chunk as Buffer | string;
        bytes += typeof buf === 'string' ? Buffer.byteLength(buf) : buf.length;
        if (bytes > IMPORT_BODY_LIMIT_BYTES) throw tooLarge();
        await add(splitter.push(buf), false);
      }
      await add(splitter.end(), true);
      await inflight;
      await this.imports.setReceived(tx, uuid, received);
    });
    try {
      await this.producer.enqueueMerge(uuid);
    } catch (e) {
      await this.imports
        .finish(uuid, 'failed', nowSeconds(), {
          line: 0,
          subcode: 'unavailable',
          description: 'The import could not be queued',
        })
        .catch(() => undefined);
      throw e instanceof TwindexError
        ? e
        : new TwindexError('unavailable', 'queue_unavailable', 'The job queue is unreachable');
    }
    void reply.status(202).header('content-type', 'application/json; charset=utf-8');
    return JSON.stringify({ uuid, status: 'queued' });
  }
}

function isStream(body: unknown): body is Readable {
  return (
    body !== null &&
    typeof body === 'object' &&
    typeof (body as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function'
  );
}
