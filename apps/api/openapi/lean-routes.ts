import type { OpenAPIObject } from '@nestjs/swagger';

/** The lean Fastify routes (GET /resolve/{identity}, POST /imports) are not Nest routes, so Swagger cannot see them; they are described here by hand. */
export function addLeanRoutesToDocument(document: OpenAPIObject): void {
  document.paths['/resolve/{identity}'] = {
    get: {
      operationId: 'resolve_twin_identity',
      summary: 'Which twins carry this identity, for this caller',
      tags: ['resolve'],
      security: [{ secret: [] }],
      parameters: [
        {
          name: 'identity',
          in: 'path',
          required: true,
          description: 'identity name, `#` percent-encoded as %23',
          schema: { type: 'string' },
        },
        {
          name: 'context',
          in: 'query',
          required: false,
          description:
            'personal (default), system, an account UUID, or several (repeated or comma-separated, ≤ 100)',
          schema: { type: 'string' },
        },
        {
          name: 'details',
          in: 'query',
          required: false,
          description: 'true: twin objects of the twins the caller may see instead of UUIDs',
          schema: { type: 'boolean' },
        },
      ],
      responses: {
        '200': {
          description:
            '{"twins": [uuid…]} or {"twins": [twin…]}; an unknown or invisible identity gives an empty list',
        },
        '400': { description: 'invalid_identity, invalid_parameter, invalid_header' },
        '401': { description: 'missing, unknown, revoked or expired secret' },
        '403': { description: 'resolve_twin_identity not allowed' },
      },
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
      },
    },
  };
}
