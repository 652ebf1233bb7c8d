import { z } from 'zod';

const option = z.enum(['create', 'refresh']);

/** `secret_dict` keys match the description key regex; its size (4 KiB of JSON) is the service's check. */
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
