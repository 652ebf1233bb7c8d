import { z } from 'zod';

const status = z.enum(['active', 'disabled']);
/** Trusted Twin's user activity-log configuration: stored and returned, no other effect (docs/access.md "Users"). */
const activity = z.record(z.string(), z.unknown()).nullable().optional();

/** `description` is checked by validateDescription (key pattern, 64 KiB) after parsing, so its errors name it. */
export const createUserSchema = z.strictObject({
  name: z.string(),
  role: z.string(),
  description: z.unknown().optional(),
  activity,
  status: status.optional(),
});

/** Attributes given replace, others stay; `description` replaces the whole object. */
export const updateUserSchema = z.strictObject({
  name: z.string().optional(),
  role: z.string().optional(),
  description: z.unknown().optional(),
  activity,
  status: status.optional(),
});
