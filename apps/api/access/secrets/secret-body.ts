import { z } from 'zod';

/** Seconds since the epoch, or null for "never expires". A past value expires the secret at once. */
export const validityTs = z.number().finite().min(0).nullable();

export const updateSecretSchema = z.strictObject({ validity_ts: validityTs });

/** `create_user_secret_pin`: body optional; `validity_ts` is the expiry of the secret the PIN will create. */
export const createPinSchema = z.strictObject({ validity_ts: validityTs.optional() });

/** The first Twindex form of the PIN exchange (alias of `POST /secrets/{account}/{pin}`). */
export const exchangePinSchema = z.strictObject({
  account: z.string().max(100),
  user: z.string().max(100),
  pin: z.string().max(100),
});
