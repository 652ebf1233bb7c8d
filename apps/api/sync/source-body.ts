import { z } from 'zod';
import { scheduleProblem } from '../../../libs/sync/schedule.js';

// C0 controls and DEL: invisible in listings; PostgreSQL text cannot hold NUL.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

const name = z
  .string()
  .min(1, 'must be 1–100 characters')
  .max(100, 'must be 1–100 characters')
  .refine((s) => s.trim().length > 0 && !CONTROL.test(s), 'must not be blank or contain control characters');

/** An http(s) URL without credentials, query or fragment: the API root the Trusted Twin paths are appended to. */
const baseUrl = z
  .string()
  .max(2048, 'must be at most 2048 characters')
  .refine((s) => {
    try {
      const u = new URL(s);
      return (
        (u.protocol === 'http:' || u.protocol === 'https:') &&
        !u.username &&
        !u.password &&
        !u.search &&
        !u.hash
      );
    } catch {
      return false;
    }
  }, 'must be an http:// or https:// URL without credentials, query or fragment');

const secret = z
  .string()
  .min(1, 'must not be empty')
  .max(4096, 'must be at most 4096 characters')
  .refine((s) => !CONTROL.test(s), 'must not contain control characters');

const schedule = z
  .string()
  .nullable()
  .superRefine((s, ctx) => {
    const problem = s === null ? null : scheduleProblem(s);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** Edge mirror by push: the upstream topic the worker subscribes this source's webhook intake to. */
const subscribe = z
  .strictObject({ topic: z.string().regex(/^[0-9A-Za-z_.-]{1,127}$/, 'must match ^[0-9A-Za-z_.-]{1,127}$') })
  .nullable();

const maxConcurrency = z.int().min(1).max(64);
const maxRate = z.int().min(1).max(10_000);

export const createSourceSchema = z.strictObject({
  name,
  base_url: baseUrl,
  secret,
  schedule: schedule.optional(),
  include_foreign: z.boolean().optional(),
  enabled: z.boolean().optional(),
  /** Upstream calls in flight at once, per worker process (default 8). */
  max_concurrency: maxConcurrency.optional(),
  /** Upstream calls per second, per worker process (default 100). */
  max_rate: maxRate.optional(),
  subscribe: subscribe.optional(),
});

/** Attributes given replace; absent ones stay. A new `secret` replaces the stored one. */
export const updateSourceSchema = z.strictObject({
  name: name.optional(),
  base_url: baseUrl.optional(),
  secret: secret.optional(),
  schedule: schedule.optional(),
  include_foreign: z.boolean().optional(),
  enabled: z.boolean().optional(),
  max_concurrency: maxConcurrency.optional(),
  max_rate: maxRate.optional(),
  subscribe: subscribe.optional(),
});

export const startRunSchema = z.strictObject({ mode: z.enum(['full', 'incremental']).optional() });

export type CreateSourceInput = z.output<typeof createSourceSchema>;
export type UpdateSourceInput = z.output<typeof updateSourceSchema>;

/**
 * The webhook body as /docs shows it. The handler reads it leniently (twinsNamedBy: events naming no twin are
 * skipped), so this schema documents the shape rather than validating it.
 */
const webhookEvent = z.looseObject({ twin: z.string().describe('twin UUID') });
export const webhookBodySchema = z.union([webhookEvent, z.array(webhookEvent)]);
