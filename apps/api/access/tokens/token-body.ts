import { z } from 'zod';

/** access.md: `secret_dict` keys match the description key regex; the whole at most 4 KiB of JSON. */
export const SECRET_DICT_MAX_BYTES = 4096;

const option = z.enum(['create', 'refresh']);

export const createTokenSchema = z.strictObject({
  secret_dict: z
    .record(
      z.string().regex(/^[a-z_][0-9a-z_]{0,63}$/, 'key must match ^[a-z_][0-9a-z_]{0,63}$'),
      z.unknown(),
    )
    .optional(),
  options: z.array(option).max(2).nullable().optional(),
  validity_ts: z.number().finite().min(0).nullable().optional(),
});

export const refreshTokenSchema = z.strictObject({
  validity_ts: z.number().finite().min(0).nullable().optional(),
});

export type CreateTokenInput = z.output<typeof createTokenSchema>;
