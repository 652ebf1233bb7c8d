import ipaddr from 'ipaddr.js';
import { z } from 'zod';

/** Entries of SYNC_ALLOWED_HOSTS that are neither a host name, an IP address nor a CIDR range. */
function allowListProblem(list: string | undefined): string | null {
  for (const raw of (list ?? '').split(',')) {
    const entry = raw.trim().replace(/^\[(.*)\]$/, '$1');
    if (!entry) continue;
    if (entry.includes('/')) {
      try {
        ipaddr.parseCIDR(entry);
      } catch {
        return entry;
      }
    } else if (!ipaddr.isValid(entry) && !/^[A-Za-z0-9.-]{1,253}$/.test(entry)) return entry;
  }
  return null;
}

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** Every variable the processes read. `.env.example` documents the same list; keep both in step. */
export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .default('postgres://postgres@127.0.0.1:5432/twindex'),
  DATABASE_POOL_SIZE: positiveInt(10),
  // Deadlines of every PostgreSQL call (ms): a partition must turn into a 503, never into a hang.
  DATABASE_CONNECT_TIMEOUT_MS: positiveInt(2000),
  DATABASE_STATEMENT_TIMEOUT_MS: positiveInt(5000),
  WORKER_DATABASE_STATEMENT_TIMEOUT_MS: positiveInt(120_000),
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: positiveInt(10_000),
  DATABASE_KEEPALIVE_MS: positiveInt(10_000),
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
  /** API processes sharing the port (node:cluster); `auto` = one per core. */
  API_PROCESSES: z.union([z.literal('auto'), z.coerce.number().int().min(1).max(64)]).default(1),
  // HTTP edges (docs/http.md "Limits"): deadlines for a request's headers and body, idle sockets and keep-alive…
  HTTP_HEADERS_TIMEOUT_MS: positiveInt(10_000),
  HTTP_REQUEST_TIMEOUT_MS: positiveInt(30_000),
  HTTP_IDLE_TIMEOUT_MS: positiveInt(60_000),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: positiveInt(72_000),
  // …and connections: `auto` derives both caps from the file-descriptor soft limit, keeping room for files and sockets.
  HTTP_MAX_CONNECTIONS: z.union([z.literal('auto'), z.coerce.number().int().positive()]).default('auto'),
  HTTP_MAX_CONNECTIONS_PER_ADDRESS: z
    .union([z.literal('auto'), z.coerce.number().int().positive()])
    .default('auto'),
  /** On SIGTERM the API is unready but keeps serving this long, so load balancers take it out first; 0 = no pause. */
  API_DRAIN_MS: z.coerce.number().int().min(0).max(120_000).default(5000),
  TWINDEX_OPERATOR_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  TWINDEX_SECRET_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  CACHE_MAX_ENTRIES: positiveInt(1_000_000),
  CACHE_MAX_BYTES: positiveInt(256 * 1024 * 1024),
  CACHE_TTL_MS: positiveInt(5 * 60_000),
  // Each account's share of an instance's resolve path (names/s, token bucket; 0 = unlimited): docs/resolution.md.
  RESOLVE_NAMES_PER_SECOND_PER_ACCOUNT: z.coerce.number().int().min(0).default(10_000),
  RESOLVE_BURST_NAMES: positiveInt(10_000),
  PRINCIPAL_CACHE_MAX_ENTRIES: positiveInt(10_000),
  PRINCIPAL_CACHE_TTL_MS: positiveInt(60_000),
  WORKER_CONCURRENCY: positiveInt(8),
  // A twin sync is tried this many times, the n-th retry after about BACKOFF × 2^(n-1) ms (halved at random at
  // most): 8 attempts from 1 s wait 63–127 s in all, so a minute's outage of PostgreSQL or upstream is ridden out.
  SYNC_TWIN_ATTEMPTS: positiveInt(8),
  SYNC_TWIN_BACKOFF_MS: positiveInt(1000),
  // The worker's reaper: how often it looks for runs whose queued work was lost, and how old such work must be.
  SYNC_REAPER_INTERVAL_MS: positiveInt(30_000),
  SYNC_REAPER_GRACE_MS: positiveInt(60_000),
  // …and how many times it queues one run's lost scan or twin job again before counting it as failed.
  SYNC_REAPER_MAX_REQUEUES: positiveInt(5),
  // Every sync run ends: at most this many pages and distinct twins, this many pages in a row bringing no twin new
  // to the run, and this much wall-clock time from its start (a run stopped by one of them fails with the reason).
  SYNC_RUN_MAX_PAGES: positiveInt(10_000),
  SYNC_RUN_MAX_TWINS: positiveInt(1_000_000),
  SYNC_RUN_MAX_IDLE_PAGES: positiveInt(3),
  SYNC_RUN_DEADLINE_MS: positiveInt(3_600_000),
  // Upstream answers are read up to these sizes (bytes), and no further: a scan page or one twin; one twin's
  // identity list, and how many identities it may hold. Over a limit the page or twin fails with the reason.
  SYNC_MAX_PAGE_BYTES: positiveInt(16 * 1024 * 1024),
  SYNC_MAX_IDENTITY_LIST_BYTES: positiveInt(32 * 1024 * 1024),
  SYNC_MAX_IDENTITIES_PER_TWIN: positiveInt(50_000),
  // Fair shares (docs/sync.md "Fair shares"): twin jobs pending per source and per account (webhook events beyond
  // answer 429), and how long a scan whose source is over its cap waits before it looks again.
  SYNC_PENDING_PER_SOURCE: positiveInt(20_000),
  SYNC_PENDING_PER_ACCOUNT: positiveInt(50_000),
  SYNC_BACKLOG_WAIT_MS: positiveInt(5_000),
  // Delay of a twin sync queued by a message of a source's own push subscription (docs/sync.md "Webhooks"): the
  // upstream's outbox sends a twin's changes in order, so a short window still folds a burst into one sync.
  SYNC_PUSH_DEBOUNCE_MS: positiveInt(50),
  /** The worker's /metrics (and /health) port; 0 picks a free one (tests). */
  WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  METRICS_TOKEN: z.string().min(16).optional(),
  /** open: a role's twin_rule may see every account's twins (Trusted Twin); closed: own twins only. */
  TWIN_SHARING: z.enum(['open', 'closed']).default('open'),
  IMPORT_POOL_SIZE: positiveInt(2),
  IMPORT_MAX_CONCURRENT: positiveInt(4),
  IMPORT_MAX_CONCURRENT_PER_ACCOUNT: positiveInt(2),
  IMPORT_MIN_UPLOAD_BYTES: positiveInt(16 * 1024),
  IMPORT_UPLOAD_WINDOW_MS: positiveInt(10_000),
  IMPORT_SPOOL_DIR: z.string().min(1).optional(),
  // Imports waiting for their merge per account, and their staged rows (docs/imports.md "Fair shares"): 429 beyond.
  IMPORT_QUEUED_PER_ACCOUNT: positiveInt(10),
  IMPORT_STAGED_ROWS_PER_ACCOUNT: positiveInt(20_000_000),
  /** Abuse throttling: failed authentications and PIN exchanges counted per window, per client address / account. */
  RATE_LIMIT_WINDOW_S: positiveInt(60),
  RATE_LIMIT_FAILURES_PER_ADDRESS: positiveInt(30),
  RATE_LIMIT_FAILURES_PER_ACCOUNT: positiveInt(20),
  /**
   * Sync source addresses allowed beyond public unicast (SSRF guard): host names, IP addresses and CIDR ranges,
   * comma separated, e.g. `127.0.0.1,localhost,10.20.0.0/16`. Unset: only public addresses.
   */
  SYNC_ALLOWED_HOSTS: z
    .string()
    .optional()
    .refine((list) => allowListProblem(list) === null, {
      message: 'must list host names, IP addresses or CIDR ranges',
    }),
  /**
   * This deployment's address as others reach it: the base of the confirm/refresh/unsubscribe URLs in notification
   * messages, and of an edge mirror's webhook intake. Unset: http://localhost:PORT (fine for one machine only).
   */
  PUBLIC_URL: z
    .string()
    .optional()
    .refine((u) => u === undefined || u === '' || /^https?:\/\/[^\s]+$/.test(u), {
      message: 'must be an http(s) URL',
    }),
  /** Callback POSTs one worker process has in flight at once, over all subscriptions (docs/notifications.md). */
  NOTIFY_CONCURRENCY: positiveInt(32),
  /** Of those, at most this many for the subscriptions of one subscribing account: its hanging callbacks wait alone. */
  NOTIFY_CONCURRENCY_PER_ACCOUNT: positiveInt(4),
  MIGRATIONS_RUN: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
});

export type TwindexConfig = z.infer<typeof configSchema>;
