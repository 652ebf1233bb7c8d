import { z } from 'zod';

export const createAccountSchema = z.strictObject({
  name: z.string(),
  /** Mirror an upstream account's id; generated when absent. */
  uuid: z.string().optional(),
});

export const updateAccountSchema = z.strictObject({
  name: z.string().optional(),
  /**
   * Trusted Twin's Resource Access Log configuration (a dictionary keyed by rule): stored and returned as given,
   * without effect, since Twindex keeps no timeseries tables. `null` clears it; absent leaves it.
   */
  resource_access_log: z.record(z.string(), z.unknown()).nullable().optional(),
});
