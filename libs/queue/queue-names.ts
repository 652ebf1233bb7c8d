/**
 * Queue and job names, and the payload of each job, in one place so producers (api) and processors (worker)
 * cannot disagree.
 */
export const QUEUES = {
  sync: 'sync',
  imports: 'imports',
} as const;

export interface JobPayloads {
  'sync-source': { sourceId: string; runId: string; mode: 'full' | 'incremental' };
  'sync-twin': { sourceId: string; runId: string | null; twin: string };
  'import-merge': { importId: string };
}

export type JobName = keyof JobPayloads;
