import { ApiBody } from '@nestjs/swagger';
import type { z } from 'zod';
import { toOpenApiSchema } from '../openapi/index.js';

/** Documents a request body in /docs from the same zod schema that validates it, so the two cannot drift. */
export function ApiZodBody(schema: z.ZodType, description?: string, required = true) {
  return ApiBody({ schema: toOpenApiSchema(schema, 'input'), description, required });
}
