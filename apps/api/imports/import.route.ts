import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AuthService } from '../../../libs/access/auth.service.js';
import { CONFIG, type TwindexConfig } from '../../../libs/config/index.js';
import { BacklogFullError, badRequest, TwindexError } from '../../../libs/domain/errors.js';
import { ImportAdmission, TooManyImportsError } from '../../../libs/admission/import-admission.js';
import { IMPORT_DB, type ImportDb } from '../../../libs/imports/import-db.js';
import type { ImportFormat } from '../../../libs/imports/line-splitter.js';
import {
  BACKLOG_RETRY_AFTER_SECONDS,
  ImportProducer,
  QUEUE_DEADLINE_MS,
  withDeadline,
} from '../../../libs/imports/import-producer.js';
import { REDIS } from '../../../libs/queue/redis.module.js';
import type { Redis } from 'ioredis';
import {
  CsvToCopy,
  csvParser,
  IMPORT_ROW_COLUMNS,
  NdjsonToCopy,
  StageTally,
  UploadMeter,
} from '../../../libs/imports/import-staging.js';
import { ImportsRepository } from '../../../libs/imports/imports.repository.js';
import { authenticateRequest } from '../http/auth.guard.js';
import { sendError } from '../http/send-error.js';
import { nowSeconds } from '../../../libs/clock/clock.js';
import { uuidV7 } from '../../../libs/domain/identity/uuid.js';

export const IMPORT_ROUTE_PATH = '/imports';

/** docs/imports.md: an import body streams up to 1 GiB. */
export const IMPORT_BODY_LIMIT_BYTES = 1024 * 1024 * 1024;

/** Bodies the route buffers (a wrong content type) stay at the API's 64 KiB (api-app.ts BODY_LIMIT_BYTES). */
const BUFFERED_BODY_LIMIT_BYTES = 64 * 1024;

const MEDIA_TYPES: Record<string, ImportFormat> = {
  'application/x-ndjson': 'ndjson',
  'text/csv': 'csv',
};

const tooLarge = () =>
  new TwindexError(
    'payload_too_large',
    'payload_too_large',
    `An import body is limited to ${IMPORT_BODY_LIMIT_BYTES} bytes`,
  );

const stagingFull = (staged: number, cap: number) =>
  new BacklogFullError(
    `The account's unmerged imports already hold ${staged} staged rows (at most ${cap} with this one); retry later`,
    BACKLOG_RETRY_AFTER_SECONDS,
    'staging_full',
  );

function formatOf(contentType: string | undefined): ImportFormat | undefined {
  const essence = (contentType ?? '').split(';')[0].trim().toLowerCase();
  return MEDIA_TYPES[essence];
}

/**
 * `POST /imports` registered on Fastify itself: its body is not parsed by Fastify but streamed through the line
 * parser and validator into a spool file of COPY rows while it arrives (no database connection is held while a
 * client uploads, however slowly), then loaded with one `COPY import_rows FROM STDIN` on the imports' own small
 * pool, in one transaction with the import's row; then the merge is enqueued.
 *
 * Before the body is read: the caller's permission, the content type, a free upload slot (`429` beyond the caps)
 * and a reachable queue (`503 queue_unavailable`). Once it is read: the caller's permission again. While it is read: the 1 GiB limit (`413`), the minimum upload
 * rate (`400 upload_too_slow`) and, for CSV, the header (`400 invalid_csv_header` as soon as line 1 arrives).
 *
 * The NDJSON and CSV content-type parsers hand the raw request stream through. Fastify applies `bodyLimit` only to
 * the parsers that buffer (JSON, text), so the route keeps the API's 64 KiB for those (a wrong type is a small
 * `400`).
 */
@Injectable()
export class ImportRoute implements OnModuleInit {
  private readonly logger = new Logger('imports');
  private readonly admission: ImportAdmission;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly auth: AuthService,
    @Inject(IMPORT_DB) private readonly importDb: ImportDb,
    @Inject(CONFIG) private readonly config: TwindexConfig,
    private readonly imports: ImportsRepository,
    private readonly producer: ImportProducer,
    @Inject(REDIS) private readonly redis: Redis,
  ) {
    this.admission = new ImportAdmission({
      maxConcurrent: config.IMPORT_MAX_CONCURRENT,
      maxPerAccount: config.IMPORT_MAX_CONCURRENT_PER_ACCOUNT,
    });
  }

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    for (const type of Object.keys(MEDIA_TYPES)) {
      fastify.addContentTypeParser(type, (_request, payload, done) => done(null, payload));
    }
    fastify.post(
      IMPORT_ROUTE_PATH,
      { bodyLimit: BUFFERED_BODY_LIMIT_BYTES, config: { ownMediaTypes: true } },
      (request, reply) =>
        this.handle(request, reply).catch((err: unknown) => {
          // The client may still be sending: stop reading, and do not keep the connection for another request.
          if (isStream(request.body)) request.body.pause();
          if (!reply.sent) void reply.header('connection', 'close');
          if (err instanceof TooManyImportsError) void reply.header('retry-after', String(err.retryAfter));
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
    const release = this.admission.admit(principal.account);
    const spool = join(
      await mkdtemp(join(this.config.IMPORT_SPOOL_DIR ?? tmpdir(), 'twindex-import-')),
      'rows.copy',
    );
    try {
      // Redis is asked first, so that an outage answers 503 at once instead of after the upload; an account whose
      // queue or staging is already full hears 429 before it sends the body (docs/imports.md "Fair shares").
      await withDeadline(this.redis.ping(), QUEUE_DEADLINE_MS);
      await this.producer.assertRoom(principal.account);
      const cap = this.config.IMPORT_STAGED_ROWS_PER_ACCOUNT;
      const stagedBefore = await this.imports.stagedRows(principal.account);
      if (stagedBefore >= cap) throw stagingFull(stagedBefore, cap);
      const tally = await this.spool(request.body, format, spool);
      // Checked again now that the body is in, from the database: a secret revoked, a user removed or a role
      // changed during a long upload refuses the import (401/403 as at the start), and nothing is stored.
      await this.auth.reauthorize(request.headers.authorization, 'create_import');
      // Time-ordered (version 7): a new import's staged rows, keyed (import, line), are then appended at the right
      // edge of import_rows_pkey, where PostgreSQL inserts without descending the tree, instead of into the middle
      // of it (a random id: 20–30 % of the staging COPY).
      const uuid = uuidV7(Date.now(), randomBytes(10));
      await this.importDb.transaction(async (tx) => {
        const staged = await this.imports.lockStagedRows(tx, principal.account);
        if (staged + tally.staged > cap) throw stagingFull(staged, cap);
        await this.imports.create(tx, {
          uuid,
          account: principal.account,
          creator: principal.user,
          format,
          createdTs: nowSeconds(),
        });
        // import_rows.import defaults to this setting: the COPY rows need not repeat the UUID.
        await tx.query(`SELECT set_config('twindex.import_id', $1, true)`, [uuid]);
        await tx.copyFrom(`COPY import_rows ${IMPORT_ROW_COLUMNS} FROM STDIN`, createReadStream(spool));
        await this.imports.setStaged(tx, uuid, tally);
      });
      try {
        await this.producer.enqueueMerge(uuid, principal.account, { capped: true });
      } catch (e) {
        // The caller hears 503 and will retry: nothing of this attempt stays behind.
        await this.imports.remove(uuid).catch(() => undefined);
        throw e;
      }
      void reply.status(202).header('content-type', 'application/json; charset=utf-8');
      return JSON.stringify({ uuid, status: 'queued' });
    } finally {
      release();
      await rm(dirname(spool), { recursive: true, force: true }).catch(() => undefined);
    }
  }

  /** Parses, checks and encodes the body into the spool file; answers what it found. */
  private async spool(body: Readable, format: ImportFormat, file: string): Promise<StageTally> {
    const tally = new StageTally();
    const meter = new UploadMeter({
      maxBytes: IMPORT_BODY_LIMIT_BYTES,
      minBytes: this.config.IMPORT_MIN_UPLOAD_BYTES,
      windowMs: this.config.IMPORT_UPLOAD_WINDOW_MS,
    });
    // The request stream is piped, not part of the pipeline: a failure must not destroy the socket before the
    // error answer is written.
    body.on('error', (e) => meter.destroy(e));
    body.pipe(meter);
    const stages: Array<NodeJS.ReadWriteStream> =
      format === 'ndjson' ? [new NdjsonToCopy(tally)] : [csvParser(tally), new CsvToCopy(tally)];
    try {
      await pipeline([meter, ...stages, createWriteStream(file)]);
    } finally {
      body.unpipe(meter);
    }
    return tally;
  }
}
function isStream(body: unknown): body is Readable {
  return (
    body !== null &&
    typeof body === 'object' &&
    typeof (body as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function'
  );
}
