import { z } from 'zod';

/** docs/resolution.md "Explaining an answer": a DICT to assume is at most this long as JSON (a generous header). */
export const MAX_DICT_BYTES = 16 * 1024;

/** What GET /resolve takes — identity, context, details — plus whom to explain it for and the DICT to assume. */
export const explainBody = z.strictObject({
  identity: z.string().describe('identity name, as GET /resolve/{identity} takes it (`#` not encoded)'),
  context: z
    .union([z.string(), z.array(z.string())])
    .optional()
    .describe('personal (default), system, an account UUID, or a list of them (≤ 100)'),
  details: z.boolean().optional().describe('explain the details=true answer: twin objects of visible twins'),
  as_user: z
    .string()
    .optional()
    .describe('a user of your own account to explain it for (needs get_user); as if it called with a secret'),
  dict: z
    .record(z.string(), z.unknown())
    .optional()
    .refine((d) => d === undefined || Buffer.byteLength(JSON.stringify(d)) <= MAX_DICT_BYTES, {
      message: `must be at most ${MAX_DICT_BYTES} bytes of JSON`,
    })
    .describe(
      'the X-TrustedTwin dictionary to assume (DICT in rules); default: the one this request sends, or {} with as_user',
    ),
});

export type ExplainBody = z.output<typeof explainBody>;
