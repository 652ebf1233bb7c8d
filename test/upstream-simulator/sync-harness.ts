/** Running the worker in-process next to a TestApi, and comparing the index with the simulator's data. */
import { type INestApplicationContext } from '@nestjs/common';
import { Queue } from 'bullmq';
import { NestFactory } from '@nestjs/core';
import type { Client } from 'pg';
import { WorkerModule } from '../../apps/worker/worker.module.js';
import type { TwindexConfig } from '../../libs/config/index.js';
import { bullConnection } from '../../libs/queue/bull-connection.js';
import { QUEUES } from '../../libs/queue/job-catalogue.js';
import type { SyncOptions } from '../../libs/sync/sync-options.js';
import type { TestApi } from '../support/test-app.js';
import type { UpstreamSimulator } from './simulator.js';

/** Tight timeouts and backoffs so fault tests take seconds, not minutes. */
export const FAST_SYNC: Partial<SyncOptions> = {
  callPolicy: { timeoutMs: 1_500, maxAttempts: 4, baseDelayMs: 20, maxDelayMs: 200, maxRetryAfterMs: 5_000 },
  pageSize: 50,
  incrementalOverlapSeconds: 0.25,
};

export async function startWorker(
  config: TwindexConfig,
  sync: Partial<SyncOptions> = FAST_SYNC,
): Promise<INestApplicationContext> {
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config, { sync }), {
    logger: false,
  });
  await app.init();
  return app;
}

/** Removes the suite's queues from Redis (each suite has its own REDIS_PREFIX). */
export async function clearQueues(config: TwindexConfig): Promise<void> {
  for (const name of Object.values(QUEUES)) {
    const queue = new Queue(name, { connection: bullConnection(config), prefix: config.REDIS_PREFIX });
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
  }
}

export async function waitFor<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 60_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export interface RunReport {
  uuid: string;
  source: string;
  mode: string;
  status: string;
  progress: number;
  counts: { twins: number; upserted: number; deleted: number; failed: number; retries: number };
  started_ts: number | null;
  finished_ts: number | null;
  errors: Array<{ twin: string | null; description: string; ts: number }>;
}

export async function startRun(
  api: TestApi,
  secret: string,
  source: string,
  mode: 'full' | 'incremental' = 'full',
): Promise<RunReport> {
  const res = await api.post<RunReport>(`/sync/sources/${source}/runs`, { secret, body: { mode } });
  if (res.status !== 202) throw new Error(`start run: ${res.status} ${res.text}`);
  return res.body;
}

/** Polls the run report until the run is completed or failed. */
export async function finishedRun(
  api: TestApi,
  secret: string,
  run: string,
  timeoutMs = 60_000,
): Promise<RunReport> {
  return waitFor(
    async () => {
      const res = await api.get<RunReport>(`/sync/runs/${run}`, { secret });
      return res.body?.status === 'completed' || res.body?.status === 'failed' ? res.body : undefined;
    },
    `run ${run}`,
    timeoutMs,
  );
}

export async function syncAndWait(
  api: TestApi,
  secret: string,
  source: string,
  mode: 'full' | 'incremental' = 'full',
  timeoutMs = 60_000,
): Promise<RunReport> {
  const run = await startRun(api, secret, source, mode);
  return finishedRun(api, secret, run.uuid, timeoutMs);
}

export interface IndexSnapshot {
  twins: string[];
  identities: string[];
  grants: string[];
}

/** JSON with sorted keys, so jsonb and JavaScript objects compare as text. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const line = (...parts: (string | number | boolean | null | undefined)[]) =>
  parts.map((p) => (p === null ? '-' : String(p))).join(' ');

/** The rows a source holds, as sorted lines. */
export async function indexSnapshot(db: Client, source: string): Promise<IndexSnapshot> {
  const twins = await db.query(
    `SELECT t.uuid, t.owner, t.status, t.description, t.created_ts, t.updated_ts, t.terminated_ts
       FROM twins t JOIN sync_twins s ON s.twin = t.uuid AND s.source = $1 AND s.present`,
    [source],
  );
  const identities = await db.query(
    `SELECT twin, owner, name, visibility, validity_ts, created_ts, updated_ts FROM identities WHERE source = $1`,
    [source],
  );
  const grants = await db.query(
    `SELECT twin, owner, grantee, name, validity_ts, created_ts, updated_ts FROM identity_grants WHERE source = $1`,
    [source],
  );
  return {
    twins: twins.rows
      .map((r) =>
        line(
          r.uuid,
          r.owner,
          r.status,
          canonical(r.description),
          r.created_ts,
          r.updated_ts,
          r.terminated_ts,
        ),
      )
      .sort(),
    identities: identities.rows
      .map((r) =>
        line(r.twin, r.owner, r.name, r.visibility ?? '<private>', r.validity_ts, r.created_ts, r.updated_ts),
      )
      .sort(),
    grants: grants.rows
      .map((r) => line(r.twin, r.owner, r.grantee, r.name, r.validity_ts, r.created_ts, r.updated_ts))
      .sort(),
  };
}

/** What the index must hold for `account`'s source after a sync of everything the simulator has. */
export function expectedSnapshot(
  sim: UpstreamSimulator,
  account: string,
  includeForeign: boolean,
): IndexSnapshot {
  const out: IndexSnapshot = { twins: [], identities: [], grants: [] };
  const now = Date.now() / 1000;
  for (const t of sim.twins.values()) {
    out.twins.push(
      line(t.uuid, t.owner, t.status, canonical(t.description), t.created_ts, t.updated_ts, t.terminated_ts),
    );
    for (const [owner, byName] of t.identities) {
      for (const [name, i] of byName) {
        if (owner === account) {
          out.identities.push(
            line(t.uuid, owner, name, i.visibility ?? '<private>', i.validity_ts, i.created_ts, i.updated_ts),
          );
        } else if (includeForeign && (i.validity_ts === null || i.validity_ts > now)) {
          out.grants.push(line(t.uuid, owner, account, name, i.validity_ts, i.created_ts, i.updated_ts));
        }
      }
    }
  }
  out.twins.sort();
  out.identities.sort();
  out.grants.sort();
  return out;
}
