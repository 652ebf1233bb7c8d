import type { SchemaObject } from '@nestjs/swagger';
import { z } from 'zod';

/**
 * A zod schema as an OpenAPI 3.0 schema object: zod's `openapi-3.0` target writes `nullable` instead of
 * `type: [X, "null"]`; the JSON-Schema-only keywords that 3.0 rejects are dropped.
 */
export function toOpenApiSchema(schema: z.ZodType, io: 'input' | 'output' = 'input'): SchemaObject {
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'openapi-3.0' });
  return stripNon30(json) as SchemaObject;
}

/** Every schema of a registry (`.add(schema, {id})`) as components, cross-referenced by `#/components/schemas/<id>`. */
export function registryToComponents(
  registry: z.core.$ZodRegistry<{ id: string }>,
): Record<string, SchemaObject> {
  const out = z.toJSONSchema(registry, {
    io: 'output',
    unrepresentable: 'any',
    target: 'openapi-3.0',
    uri: (id) => `#/components/schemas/${id}`,
  });
  return stripNon30(out.schemas) as Record<string, SchemaObject>;
}

const NOT_IN_30 = new Set(['$schema', '$id', 'propertyNames', '$defs']);

function stripNon30(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripNon30);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (NOT_IN_30.has(k)) continue;
    // `properties` maps field names (which may be anything, "$id" included) to schemas: keep its keys.
    out[k] = k === 'properties' ? mapValues(v as Record<string, unknown>) : stripNon30(v);
  }
  return out;
}

function mapValues(props: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, stripNon30(v)]));
}
