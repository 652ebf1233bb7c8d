import { UnrecoverableError } from 'bullmq';
import { z } from 'zod';

/**
 * The job catalogue: every queue, every job name, which queue each job goes on and the schema of its payload, in
 * one place so producers (api) and processors (worker) cannot disagree. Processors read payloads through
 * `readPayload`, so a malformed job (an old payload after a deploy, a hand-edited job) fails with a reason
 * instead of crashing half-way through.
 */
export const QUEUES = {
  /** `sync-source` scans, created by the API, by job schedulers (one per scheduled source) and on worker start. */
  sync: 'sync',
  /** `sync-twin` reconciles: many short jobs, kept apart so a long scan never waits behind ten thousand of them. */
  syncTwins: 'sync-twins',
  imports: 'imports',
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

const SyncMode = z.enum(['full', 'incremental']);
export type SyncMode = z.infer<typeof SyncMode>;

const id = z.string().min(1);

export const JOBS = {
  /**
   * A run's scan. `runId` is null for scheduled runs: the job creates its run and stores its id (and its scan
   * position) back into the job data, so a retried or resumed scan continues the same run.
   */
  'sync-source': {
    queue: QUEUES.sync,
    payload: z.object({
      sourceId: id,
      account: id,
      runId: id.nullable(),
      mode: SyncMode,
      cursor: z.string().nullish(),
      pages: z.number().int().nonnegative().optional(),
    }),
  },
  /**
   * One twin's reconcile; which runs it counts for is found by (source, twin) at the end, not carried here. Sync jobs
   * name the account recorded for their source: the worker refuses a job whose source belongs to another account.
   */
  'sync-twin': { queue: QUEUES.syncTwins, payload: z.object({ sourceId: id, account: id, twin: id }) },
  /** `account` decides the job's turn among accounts (libs/queue/fair-groups.ts); jobs from before it lack it. */
  'import-merge': { queue: QUEUES.imports, payload: z.object({ importId: id, account: id.optional() }) },
} as const satisfies Record<string, { queue: QueueName; payload: z.ZodType }>;

export type JobName = keyof typeof JOBS;
export type JobPayloads = { [N in JobName]: z.infer<(typeof JOBS)[N]['payload']> };

/**
 * The payload of a job as its processor reads it. A job of another name, or whose data does not match the
 * catalogue, fails for good (no retry can mend it) with a reason naming what is wrong.
 */
export function readPayload<N extends JobName>(
  name: N,
  job: { name: string; data: unknown; queueName?: string },
): JobPayloads[N] {
  if (job.name !== name)
    throw new UnrecoverableError(`job '${job.name}' has no processor on queue '${JOBS[name].queue}'`);
  const parsed = JOBS[name].payload.safeParse(job.data);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .map((i) => `${i.path.join('.') || 'payload'}: ${i.message}`)
      .join('; ');
    throw new UnrecoverableError(`malformed ${name} payload (${issues})`);
  }
  return parsed.data as JobPayloads[N];
}
