import { z } from 'zod';

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** Every variable the processes read. `.env.example` documents the same list; keep both in step. */
export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .default('postgres://postgres@127.0.0.1:5432/twindex'),
  DATABASE_POOL_SIZE: positiveInt(10),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// URL')
    .default('redis://127.0.0.1:6379'),
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_:-]{1,64}$/, 'letters, digits, _ : - only')
    .default('twindex'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  TWINDEX_OPERATOR_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  TWINDEX_SECRET_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  CACHE_MAX_ENTRIES: positiveInt(1_000_000),
  CACHE_MAX_BYTES: positiveInt(256 * 1024 * 1024),
  CACHE_TTL_MS: positiveInt(5 * 60_000),
  PRINCIPAL_CACHE_MAX_ENTRIES: positiveInt(10_000),
  PRINCIPAL_CACHE_TTL_MS: positiveInt(60_000),
  WORKER_CONCURRENCY: positiveInt(8),
  /** The worker's /metrics (and /health) port; 0 picks a free one (tests). */
  WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  METRICS_TOKEN: z.string().min(16).optional(),
  MIGRATIONS_RUN: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
});

export type TwindexConfig = z.infer<typeof configSchema>;
