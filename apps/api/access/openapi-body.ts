import { ApiBody, type SchemaObject } from '@nestjs/swagger';
import { z } from 'zod';

/** Documents a request body in /docs from the same zod schema that validates it, so the two cannot drift. */
export function ApiZodBody(schema: z.ZodType, description?: string, required = true) {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  delete json.$schema;
  return ApiBody({ schema: json as SchemaObject, description, required });
}
