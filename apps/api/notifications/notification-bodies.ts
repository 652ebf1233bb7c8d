import { z } from 'zod';
import { MAX_RULE_LENGTH } from '../../../libs/domain/rules/index.js';

export const MAX_EXPIRES_SECONDS = 604_800;

export const topicBodySchema = z
  .object({
    triggers: z.array(z.string().max(40)).min(1, 'must list at least one trigger').max(20),
    rule: z.string().max(MAX_RULE_LENGTH).nullable().optional(),
  })
  .strict();

/** An http(s) URL of at most 512 characters without credentials or fragment (a query is the receiver's business). */
const callbackUrl = z
  .string()
  .max(512, 'must be at most 512 characters')
  .refine((s) => {
    try {
      const u = new URL(s);
      return (u.protocol === 'http:' || u.protocol === 'https:') && !u.username && !u.password && !u.hash;
    } catch {
      return false;
    }
  }, 'must be an http:// or https:// URL without credentials or fragment');

const clientSecret = z.string().regex(/^[A-Za-z0-9_-]{16}$/, 'must be 16 URL-safe base64 characters');
const expires = z
  .number()
  .int()
  .min(1)
  .max(MAX_EXPIRES_SECONDS, `must be at most ${MAX_EXPIRES_SECONDS} seconds`);

export const subscribeBodySchema = z
  .object({
    callback_url: callbackUrl,
    topic: z.string().max(200),
    client_secret: clientSecret.optional(),
    expires: expires.optional(),
    account: z.string().max(64).optional(),
    max_batch: z.number().int().min(1).max(500).optional(),
  })
  .strict();

export const refreshBodySchema = z
  .object({ expires: expires.optional(), client_secret: clientSecret.optional() })
  .strict();

/** Trusted Twin's documents name the list `topics` and also `publish`: either is accepted. */
export const accessBodySchema = z
  .object({
    topics: z.array(z.string().max(200)).max(100).optional(),
    publish: z.array(z.string().max(200)).max(100).optional(),
  })
  .strict()
  .refine((b) => b.topics !== undefined || b.publish !== undefined, 'needs topics');

export type SubscribeInput = z.infer<typeof subscribeBodySchema>;
export type RefreshInput = z.infer<typeof refreshBodySchema>;
