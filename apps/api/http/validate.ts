import { z } from 'zod';
import { badRequest } from '../../../libs/domain/errors.js';

/** Validates `unknown` input once at the edge; the first problem becomes a 400 naming the attribute. */
export function parseInput<S extends z.ZodType>(
  schema: S,
  input: unknown,
  subcode = 'invalid_body',
): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  // docs/http.md: an empty body is an absent one; where a body is required that is its own subcode.
  if (input === undefined) throw badRequest('missing_body', 'This request needs a JSON body');
  const issue = result.error.issues[0];
  if (issue.code === 'unrecognized_keys') {
    return fail('unknown_attribute', `Unknown attribute(s): ${issue.keys.join(', ')}`, issue.path);
  }
  return fail(subcode, issue.message, issue.path);
}

function fail(subcode: string, message: string, path: PropertyKey[]): never {
  const where = path.length ? `${path.map(String).join('.')}: ` : '';
  throw badRequest(subcode, `${where}${message}`);
}

/** Query booleans accept true/false in any case (docs/http.md). */
export const queryBoolean = z
  .string()
  .regex(/^(true|false)$/i, 'must be true or false')
  .transform((v) => v.toLowerCase() === 'true');

export const uuidParam = z.uuid({ message: 'must be a UUID' }).transform((v) => v.toLowerCase());
