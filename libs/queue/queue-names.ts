/**
 * Queue and job names, and the payload of each job, in one place so producers (api) and processors (worker)
 * cannot disagree.
 */
export const QUEUES = {
  /** `sync-source` scans, created by the API, by job schedulers (one per scheduled source) and on worker start. */
  sync: 'sync',
  /** `sync-twin` reconciles: many short jobs, kept apart so a long scan never waits behind ten thousand of them. */
  syncTwins: 'sync-twins',
  imports: 'imports',
} as const;

export type SyncMode = 'full' | 'incremental';

/**
 * Jobs carry ids only. Sync jobs also name the account the producer recorded for the source: a worker refuses a job
 * whose source belongs to another account (a forged or stale payload never acts on another tenant's source).
 */
export interface JobPayloads {
  /**
   * A run's scan. `runId` is null for scheduled runs: the job creates its run and stores its id (and its scan
   * position) back into the job data, so a retried or resumed scan continues the same run.
   */
  'sync-source': {
    sourceId: string;
    account: string;
    runId: string | null;
    mode: SyncMode;
    cursor?: string | null;
    pages?: number;
  };
  'sync-twin': { sourceId: string; account: string; runId: string | null; twin: string };
  'import-merge': { importId: string };
}

export type JobName = keyof JobPayloads;
