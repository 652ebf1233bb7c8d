import { reportProgress } from '../../../libs/domain/sync/report-progress.js';
import type { SyncRun } from '../../../libs/sync/sync-runs.repository.js';
import type { SyncSource } from '../../../libs/sync/sync-sources.repository.js';

/** A source as the API shows it: never the secret, and the webhook token only once, in the create response. */
export interface SourceView {
  uuid: string;
  name: string;
  base_url: string;
  schedule: string | null;
  include_foreign: boolean;
  enabled: boolean;
  max_concurrency: number;
  max_rate: number;
  subscribe: { topic: string } | null;
  created_ts: number;
  updated_ts: number;
}

export function sourceView(s: SyncSource): SourceView {
  return {
    uuid: s.uuid,
    name: s.name,
    base_url: s.baseUrl,
    schedule: s.schedule,
    include_foreign: s.includeForeign,
    enabled: s.enabled,
    max_concurrency: s.maxConcurrency,
    max_rate: s.maxRate,
    subscribe: s.subscribeTopic === null ? null : { topic: s.subscribeTopic },
    created_ts: s.createdTs,
    updated_ts: s.updatedTs,
  };
}

/** The run report of docs/sync.md "Runs", plus `trigger`, `created_ts` and the `retries` count. */
export interface RunView {
  uuid: string;
  source: string;
  mode: 'full' | 'incremental';
  trigger: 'api' | 'schedule';
  status: 'queued' | 'running' | 'completed' | 'failed';
  progress: number;
  counts: { twins: number; upserted: number; deleted: number; failed: number; retries: number };
  created_ts: number;
  started_ts: number | null;
  finished_ts: number | null;
  errors: Array<{ twin: string | null; description: string; ts: number }>;
}

export function runView(r: SyncRun): RunView {
  return {
    uuid: r.uuid,
    source: r.source,
    mode: r.mode,
    trigger: r.trigger,
    status: r.status,
    progress: reportProgress(r.status === 'completed', r.done + r.failed, r.twins),
    counts: {
      twins: r.twins,
      upserted: r.upserted,
      deleted: r.deleted,
      failed: r.failed,
      retries: r.retries,
    },
    created_ts: ms(r.createdTs),
    started_ts: r.startedTs === null ? null : ms(r.startedTs),
    finished_ts: r.finishedTs === null ? null : ms(r.finishedTs),
    errors: r.errors.map((e) => ({ twin: e.twin, description: e.description, ts: ms(e.ts) })),
  };
}

/** Seconds with millisecond precision, as every timestamp of the API. */
function ms(ts: number): number {
  return Math.round(ts * 1000) / 1000;
}
