import { z } from 'zod';

/** Seconds since the epoch, or null for "never expires". A past value expires the secret at once. */
export const validityTs = z.number().finite().min(0).nullable();

export const updateSecretSchema = z.strictObject({ validity_ts: validityTs });

/** The public PIN exchange; ids are checked by the service so that every mismatch is the same 401. */
export const exchangePinSchema = z.strictObject({
  account: z.string().max(100),
  user: z.string().max(100),
  pin: z.string().max(100),
});

/** The PIN request takes no attributes; an absent body is the same as `{}`. */
export const createPinSchema = z.strictObject({});

export type ExchangePinInput = z.output<typeof exchangePinSchema>;
