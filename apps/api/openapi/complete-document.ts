import type { OpenAPIObject } from '@nestjs/swagger';
import { queryParameterSchema } from './query-parameter-schemas.js';
import { responseRegistry, SUCCESS } from './response-schemas.js';
import { registryToComponents } from './zod-openapi.js';

type OperationObject = NonNullable<OpenAPIObject['paths'][string]['get']>;
type ResponseObject = {
  description: string;
  headers?: Record<string, unknown>;
  content?: Record<string, unknown>;
};

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head'] as const;

/** What each error status means here; the body is always the Error component. */
const ERROR_MEANING: Record<number, string> = {
  400: 'Bad input (subcode names the problem); nothing was changed',
  401: 'Missing, malformed, unknown, revoked or expired credential',
  403: "The caller's role does not allow this operation",
  404: 'No such object, or not visible to the caller (answered alike)',
  413: 'Body over the limit',
  415: 'The body is not application/json (send Content-Type: application/json)',
  429: "Over the caller's limit or the account's share (subcode names which); retry after Retry-After seconds",
  503: 'PostgreSQL or Redis is unreachable; retry after Retry-After seconds',
};

const REQUEST_ID = {
  description: 'Trace of this request (an incoming X-Request-Id or traceparent trace id, else a new UUID)',
  schema: { type: 'string' },
} as const;

/**
 * Turns the document Nest's explorer builds from the decorators into the full contract of the API: security
 * schemes, the Error shape under every error status, the X-Request-Id / Retry-After headers, and the success body
 * of every operation from response-schemas.ts. Central rather than per-controller so that every route gets the same
 * treatment, and a route left out is caught by the OpenAPI test rather than by a user of "Try it out".
 */
export function completeDocument(document: OpenAPIObject): OpenAPIObject {
  for (const [id, { schema }] of Object.entries(SUCCESS)) {
    if (!responseRegistry.has(schema)) responseRegistry.add(schema, { id: `${pascal(id)}Response` });
  }
  document.components = {
    ...document.components,
    schemas: { ...document.components?.schemas, ...registryToComponents(responseRegistry) },
    securitySchemes: {
      secret: {
        type: 'apiKey',
        in: 'header',
        name: 'Authorization',
        // Swagger UI renders these descriptions as HTML: an angle-bracketed placeholder would vanish.
        description: 'A user secret (twx_…) or token, bare or after "Bearer " (Bearer twx_…)',
      },
      operator: {
        type: 'apiKey',
        in: 'header',
        name: 'Authorization',
        description: 'TWINDEX_OPERATOR_KEY, bare or after "Bearer "',
      },
      webhook: {
        type: 'apiKey',
        in: 'header',
        name: 'X-Webhook-Token',
        description: "The sync source's webhook token (shown once at creation)",
      },
    },
  };
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (operation) completeOperation(path, operation);
    }
  }
  return document;
}

function completeOperation(path: string, op: OperationObject): void {
  // Class- and method-level @ApiSecurity may name one scheme twice.
  if (op.security) {
    const seen = new Set<string>();
    op.security = op.security.filter((req) => {
      const key = Object.keys(req).sort().join(',');
      return !seen.has(key) && (seen.add(key), true);
    });
  }
  // A header parameter named Authorization is ignored by OpenAPI tools: the security scheme carries it.
  op.parameters = (op.parameters ?? []).filter(
    (p) => !('in' in p && p.in === 'header' && p.name.toLowerCase() === 'authorization'),
  );
  for (const p of op.parameters) {
    if (!('in' in p) || p.in !== 'query') continue;
    const given = p.schema as { type?: unknown; $ref?: unknown } | undefined;
    if (given?.type !== undefined || given?.$ref !== undefined) continue;
    const schema = queryParameterSchema(op.operationId, p.name);
    if (schema) p.schema = schema;
  }
  op.parameters.push({
    name: 'X-Request-Id',
    in: 'header',
    required: false,
    description:
      'Kept as the trace of this request if it is 1–128 characters of [A-Za-z0-9._:-] (a W3C traceparent trace id is used otherwise)',
    schema: { type: 'string', maxLength: 128 },
  });
  if (op.security?.some((s) => 'secret' in s)) {
    op.parameters.push({
      name: 'X-TrustedTwin',
      in: 'header',
      required: false,
      description: 'DICT for rules: a JSON object, as text or standard base64 of its UTF-8 JSON',
      schema: { type: 'string' },
    });
  }

  const success = op.operationId ? SUCCESS[op.operationId] : undefined;
  const responses = (op.responses ??= {});
  if (success) {
    const schemaId = responseRegistry.get(success.schema)?.id;
    for (const code of Object.keys(responses))
      if (/^2/.test(code) && code !== String(success.status)) delete responses[code];
    const existing = responses[success.status] as ResponseObject | undefined;
    responses[success.status] = {
      description: existing?.description || 'Success',
      content: { 'application/json': { schema: { $ref: `#/components/schemas/${schemaId}` } } },
    };
  }

  const secured = (op.security?.length ?? 0) > 0;
  const statuses = new Set<number>([400, 503]);
  if (secured) statuses.add(401);
  if (secured && op.security?.some((s) => 'secret' in s)) statuses.add(403);
  // Path parameters name objects, which may be missing; GET /resolve/{identity} answers an empty list instead.
  if (path.includes('{') && !path.startsWith('/resolve/')) statuses.add(404);
  // Every resolve route takes from the account's share of the resolve path (docs/resolution.md).
  if (path === '/resolve' || path.startsWith('/resolve/')) statuses.add(429);
  // Health probes take no input and no credential.
  if (path.startsWith('/health/')) statuses.clear();
  if (path === '/health/ready') statuses.add(503);
  // A JSON body sent as anything else is refused before it is read (apps/api/http/json-bodies.ts).
  const bodyTypes = Object.keys((op.requestBody as { content?: object } | undefined)?.content ?? {});
  if (bodyTypes.includes('application/json')) statuses.add(415);
  for (const code of Object.keys(responses)) if (/^[45]/.test(code)) statuses.add(Number(code));
  for (const status of [...statuses].sort()) {
    const existing = responses[status] as ResponseObject | undefined;
    if (path === '/health/ready' && status === 503) {
      responses[status] = {
        description: 'A dependency is down: each check names its state',
        headers: { 'X-Request-Id': REQUEST_ID },
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Health' } } },
      };
      continue;
    }
    responses[status] = {
      description: existing?.description || ERROR_MEANING[status] || 'Error',
      headers: {
        'X-Request-Id': REQUEST_ID,
        ...(status === 503 || status === 429
          ? { 'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' } } }
          : {}),
      },
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    };
  }
  for (const [code, response] of Object.entries(responses)) {
    if (/^2/.test(code)) {
      const r = response as ResponseObject;
      r.headers = { 'X-Request-Id': REQUEST_ID, ...r.headers };
    }
  }
}

function pascal(id: string): string {
  return id.replace(/(^|_)([a-z])/g, (_m, _s, c: string) => c.toUpperCase());
}
