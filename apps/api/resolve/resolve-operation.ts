import type { ParameterObject, ResponsesObject } from '@nestjs/swagger';
import type { Action } from '../../../libs/domain/access/action-catalogue.js';
import { assertValidIdentityName } from '../../../libs/domain/identity/identity-name.js';
import type { ResolveContext } from '../../../libs/domain/model.js';
import { parseDetails, parseResolveContext } from '../../../libs/domain/visibility/resolve-context.js';

/** One parameter as served and as documented: where it is, what it means, and the one parser both forms use. */
interface Parameter<T> extends Omit<ParameterObject, 'name' | 'schema'> {
  in: 'path' | 'query';
  schema: { type: 'string' | 'boolean' };
  parse(raw: unknown): T;
}

/**
 * `GET /resolve/{identity}` described once: its path, the action that admits it, each parameter with its parser,
 * and its answers. Both forms of the route (the lean handler and the Fastify route in resolve.route.ts) parse with
 * these parsers and admit with this action; the OpenAPI document describes the route from this object
 * (apps/api/openapi/lean-routes.ts), so what is documented is what is parsed.
 */
export const RESOLVE_IDENTITY = {
  method: 'GET',
  /** Fastify's form of the path; `prefix` is what the lean handler matches on the raw URL. */
  route: '/resolve/:identity',
  prefix: '/resolve/',
  documentedPath: '/resolve/{identity}',
  action: 'resolve_twin_identity' satisfies Action,
  summary: 'Which twins carry this identity, for this caller',
  tag: 'resolve',
  parameters: {
    identity: {
      in: 'path',
      required: true,
      description: 'identity name, `#` percent-encoded as %23',
      schema: { type: 'string' },
      // The router (or the lean handler) has decoded the segment once (%23 → #): the decoded name is validated.
      parse: (raw: string): string => {
        assertValidIdentityName(raw);
        return raw;
      },
    } satisfies Parameter<string>,
    context: {
      in: 'query',
      required: false,
      description:
        'personal (default), system, an account UUID, or several (repeated or comma-separated, ≤ 100)',
      schema: { type: 'string' },
      parse: parseResolveContext,
    } satisfies Parameter<ResolveContext>,
    details: {
      in: 'query',
      required: false,
      description: 'true: twin objects of the twins the caller may see instead of UUIDs',
      schema: { type: 'boolean' },
      parse: parseDetails,
    } satisfies Parameter<boolean>,
  },
  responses: {
    '200': {
      description:
        '{"twins": [uuid…]} or {"twins": [twin…]}; an unknown or invisible identity gives an empty list',
    },
    '400': { description: 'invalid_identity, invalid_parameter, invalid_header' },
    '401': { description: 'missing, unknown, revoked or expired secret' },
    '403': { description: 'resolve_twin_identity not allowed' },
    '429': { description: "rate_limited: the account has used its share of this instance's resolve path" },
  } satisfies ResponsesObject,
} as const;

/** The OpenAPI parameter objects of the operation, in the order above. */
export function documentedResolveParameters(): ParameterObject[] {
  return Object.entries(RESOLVE_IDENTITY.parameters).map(([name, p]) => ({
    name,
    in: p.in,
    required: p.required,
    description: p.description,
    schema: { ...p.schema },
  }));
}
