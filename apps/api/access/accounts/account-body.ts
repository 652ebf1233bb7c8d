import { z } from 'zod';

export const createAccountSchema = z.strictObject({
  name: z.string(),
  /** Mirror an upstream account's id; generated when absent. */
  uuid: z.string().optional(),
});

export const updateAccountSchema = z.strictObject({
  name: z.string().optional(),
});

export type CreateAccountInput = z.output<typeof createAccountSchema>;
export type UpdateAccountInput = z.output<typeof updateAccountSchema>;
