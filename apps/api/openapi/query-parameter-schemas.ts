import type { SchemaObject } from '@nestjs/swagger';

type Schema = SchemaObject & { type: 'boolean' | 'integer' | 'number' | 'string' };

const text: Schema = { type: 'string' };
const flag = (byDefault: boolean): Schema => ({ type: 'boolean', default: byDefault });
const pageSize = (maximum: number, byDefault: number): Schema => ({
  type: 'integer',
  minimum: 1,
  maximum,
  default: byDefault,
});

/**
 * The typed schema of every query parameter, by name: a name means one thing on every route that takes it. The
 * controllers' `@ApiQuery` decorators carry name and description; the type is given here, in one place, because
 * Swagger UI shows an untyped parameter as a free text box (a checkbox or a bounded number is what a user expects),
 * and a parameter missing here is caught by the OpenAPI test.
 */
const BY_NAME: Readonly<Record<string, Schema>> = {
  details: flag(false),
  count: pageSize(1000, 100),
  limit: pageSize(1000, 100),
  cursor: text,
  fragment: text,
  paginationToken: text,
  updated_since: { type: 'number', description: 'seconds since the epoch' },
  source: { type: 'string', format: 'uuid' },
  show_terminated: flag(true),
  show_personal: flag(true),
  // true, false or an account UUID: no narrower type describes all three.
  show_foreign: { type: 'string', default: 'false' },
  show_valid: flag(true),
  show_expired: flag(false),
  show_public: flag(true),
  show_private: flag(true),
  context: text,
};

/** Where one operation bounds a parameter differently from the others (the DFNS-style permission pages). */
const BY_OPERATION: Readonly<Record<string, Readonly<Record<string, Schema>>>> = {
  get_permissions: { limit: pageSize(100, 20) },
  get_permission_assignments: { limit: pageSize(100, 20) },
};

/** The schema of query parameter `name` of `operationId`, or undefined when none is known (the test names it). */
export function queryParameterSchema(operationId: string | undefined, name: string): Schema | undefined {
  return (operationId === undefined ? undefined : BY_OPERATION[operationId]?.[name]) ?? BY_NAME[name];
}
