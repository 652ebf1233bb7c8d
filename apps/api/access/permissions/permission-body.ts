import { z } from 'zod';

const operations = z.array(z.string().max(100)).max(200);

/**
 * The permission resource keeps DFNS's camelCase (docs/access.md "Permissions and assignments"); names are checked by
 * the service (`invalid_name`).
 */
export const createPermissionSchema = z.strictObject({
  name: z.string(),
  operations,
});

export const updatePermissionSchema = z.strictObject({
  name: z.string().optional(),
  operations: operations.optional(),
});

/** Archiving is final: a soft delete that cannot be undone, so only `true` is accepted. */
export const archivePermissionSchema = z.strictObject({
  isArchived: z.literal(true, { message: 'must be true (archiving cannot be undone)' }),
});

export const assignPermissionSchema = z.strictObject({
  /** The UUID of a user of the caller's account. */
  identityId: z.string(),
});

const limit = z
  .string()
  .regex(/^[0-9]{1,3}$/, 'must be an integer from 1 to 100')
  .transform(Number)
  .pipe(
    z.number().int().min(1, 'must be an integer from 1 to 100').max(100, 'must be an integer from 1 to 100'),
  );

/** Unknown query parameters are ignored (docs/http.md). */
export const pageQuerySchema = z.object({
  limit: limit.optional(),
  paginationToken: z.string().optional(),
});
