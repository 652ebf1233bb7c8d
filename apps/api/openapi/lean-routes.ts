import type { OpenAPIObject } from '@nestjs/swagger';
import { documentedResolveParameters, RESOLVE_IDENTITY } from '../resolve/index.js';

/**
 * The lean Fastify routes (GET /resolve/{identity}, POST /imports) are not Nest routes, so Swagger cannot see them.
 * GET /resolve/{identity} is written from the description its handlers parse with (resolve/resolve-operation.ts);
 * POST /imports is described here by hand.
 */
export function addLeanRoutesToDocument(document: OpenAPIObject): void {
  document.paths[RESOLVE_IDENTITY.documentedPath] = {
    get: {
      operationId: RESOLVE_IDENTITY.action,
      summary: RESOLVE_IDENTITY.summary,
      tags: [RESOLVE_IDENTITY.tag],
      security: [{ secret: [] }],
      parameters: documentedResolveParameters(),
      responses: RESOLVE_IDENTITY.responses,
    },
  };
  document.paths['/imports'] = {
    ...(document.paths['/imports'] ?? {}),
    post: {
      operationId: 'create_import',
      summary: 'Import identities from NDJSON or CSV (streamed, up to 1 GiB)',
      tags: ['imports'],
      security: [{ secret: [] }],
      requestBody: {
        required: true,
        content: {
          'application/x-ndjson': {
            schema: {
              type: 'string',
              description: 'one {"twin","identity","visibility"?,"validity_ts"?} per line',
            },
          },
          'text/csv': {
            schema: { type: 'string', description: 'header twin,identity,visibility,validity_ts' },
          },
        },
      },
      responses: {
        '202': {
          description: '{"uuid", "status": "queued"}: stored; a worker merges it (GET /imports/{id})',
        },
        '400': { description: 'unsupported content type or unreadable body' },
        '401': { description: 'missing, unknown, revoked or expired secret' },
        '403': { description: 'create_import not allowed' },
        '413': { description: 'body over 1 GiB' },
        '429': {
          description:
            "too many uploads at once (rate_limited), or the account's fair share is used up: imports waiting (backlog_full) or rows staged (staging_full)",
        },
      },
    },
  };
}
