import { Injectable } from '@nestjs/common';
import { mayRewriteTwin, mirrorRefusal, ownerToCheck } from '../domain/sync/mirror-ownership.js';
import { Db, type Queryable, type TransactionQueryable } from '../store/db.js';
import { reconcileSourceGrants, revokeSourceGrantsOfTwins } from '../store/grant-writer.js';
import {
  deleteSourceIdentitiesOfTwins,
  deleteSyncedIdentities,
  insertSyncedIdentities,
  upsertSyncedIdentities,
} from '../store/identity.repository.js';
import {
  insertSyncedTwin,
  lockTwinKey,
  removeOrphanSyncedTwins,
  upsertSyncedTwin,
} from '../store/twin.repository.js';
import type { IdentityPlan, PlannedIdentity, PlannedTwin } from './reconcile-plan.js';
import { type RunError, SyncRunsRepository } from './sync-runs.repository.js';
import { UpstreamError } from './upstream-client.js';

/** What upstream said about one twin: complete answers only — a failed call never gets here. */
export type UpstreamTwinState =
  | { kind: 'present'; twin: PlannedTwin; identities: IdentityPlan; fetchedForeign: boolean }
  | { kind: 'absent' };

export interface ReconcileInput {
  source: string;
  twin: string;
  /** When the upstream fetch started (seconds): orders concurrent reconciles of one twin. */
  fetchStartTs: number;
  state: UpstreamTwinState;
  retries: number;
  errors: RunError[];
}

export interface ReconcileOutcome {
  /** `stale`: a sync that fetched later already committed; `source_gone`: the source was deleted. */
  result: 'applied' | 'stale' | 'source_gone';
  upserted: number;
  deleted: number;
  /** The runs that were waiting for this twin. */
  runs: string[];
}

/** This source's rows of the twin as stored, read once under the twin's lock and compared with upstream in memory. */
interface CurrentState {
  account: string;
  include_foreign: boolean;
  fetched_ts: number | null;
  twin: StoredTwin | null;
  /** [name, owner, visibility, validity_ts, created_ts, updated_ts] */
  identities: Array<[string, string, string | null, number | null, number, number]> | null;
}

interface StoredTwin {
  owner: string;
  status: string;
  description: Record<string, unknown>;
  creator: string;
  created_ts: number;
  updated_ts: number;
  terminated_ts: number | null;
  terminator: string | null;
  source: string | null;
}

/**
 * Applies one twin's upstream state to the index in ONE transaction. Safe when two workers reconcile the same twin
 * at once (a stalled job handed to a second worker): a transaction-level advisory lock per twin serialises them, and
 * a reconcile whose upstream fetch started before the one already applied changes nothing.
 *
 * Cheap when little changed: the source's rows of the twin are read once and compared with upstream in memory, and
 * only rows that differ are written — with set-based statements (unnest arrays: no per-row statements, no
 * bind-parameter limit), named so they are planned once per connection. An unchanged twin writes no index row.
 */
@Injectable()
export class TwinReconciler {
  constructor(
    private readonly db: Db,
    private readonly runs: SyncRunsRepository,
  ) {}

  async reconcile(input: ReconcileInput): Promise<ReconcileOutcome> {
    return this.db.transaction(async (tx) => {
      // The source lock shared (deleting the source, or switching include_foreign off, takes it exclusive), then
      // the twin's lock: two reconciles of one twin never interleave. Taken in this order everywhere.
      await tx.prepared(
        'sync_reconcile_lock',
        `SELECT pg_advisory_xact_lock_shared(hashtextextended($1, 7260)), pg_advisory_xact_lock(hashtextextended($2, 7260))`,
        [`sync-source ${input.source}`, `sync-twin ${input.twin}`],
      );
      // sync_sources_pkey; sync_twins_pkey; twins_pkey; identities_source_idx (source, twin).
      const found = await tx.prepared<CurrentState>(
        'sync_reconcile_current',
        `SELECT s.account, s.include_foreign, st.fetched_ts,
                (SELECT row_to_json(t) FROM (SELECT owner, status, description, creator, created_ts, updated_ts,
                                                    terminated_ts, terminator, source
                                               FROM twins WHERE uuid = $2) t) AS twin,
                (SELECT json_agg(json_build_array(name, owner, visibility, validity_ts, created_ts, updated_ts))
                   FROM identities WHERE source = $1 AND twin = $2) AS identities
           FROM sync_sources s LEFT JOIN sync_twins st ON st.source = s.uuid AND st.twin = $2
          WHERE s.uuid = $1`,
        [input.source, input.twin],
      );
      const current = found[0];
      if (!current) return { result: 'source_gone', upserted: 0, deleted: 0, runs: [] };
      let upserted = 0;
      let deleted = 0;
      // A sync whose upstream fetch started later has already been applied: ours is older news.
      const stale = current.fetched_ts !== null && current.fetched_ts > input.fetchStartTs;
      if (!stale) {
        const changed =
          input.state.kind === 'present'
            ? await this.applyPresent(tx, input, current, input.state)
            : await this.applyAbsent(tx, input);
        upserted = changed.upserted;
        deleted = changed.deleted;
      }
      const runs = await this.runs.markTwinSynced(tx, {
        source: input.source,
        twin: input.twin,
        fetchStartTs: input.fetchStartTs,
        upserted,
        deleted,
        retries: input.retries,
        errors: input.errors,
        // Remembered with the fetch time, so an older reconcile arriving later is recognised as stale.
        present: stale ? undefined : input.state.kind === 'present',
      });
      if (input.state.kind === 'absent' && !stale) await removeOrphanSyncedTwins(tx, [input.twin]);
      return { result: stale ? 'stale' : 'applied', upserted, deleted, runs };
    });
  }

  private async applyPresent(
    tx: TransactionQueryable,
    input: ReconcileInput,
    current: CurrentState,
    state: Extract<UpstreamTwinState, { kind: 'present' }>,
  ): Promise<{ upserted: number; deleted: number }> {
    const { twin, identities } = state;
    const account = current.account;
    // Ownership is never taken on trust: checked under the twin's lock, before anything is written.
    const claim = { source: input.source, account, claimedOwner: twin.owner };
    const owner = ownerToCheck(current.twin, claim);
    const refusal = mirrorRefusal(current.twin, claim, owner !== null && (await accountExists(tx, owner)));
    if (refusal) throw new OwnershipConflict(twin.uuid, refusal);
    if (current.twin === null) {
      await insertSyncedTwin(tx, twin, input.source);
    } else if (mayRewriteTwin(current.twin, input.source) && twinDiffers(current.twin, twin)) {
      await upsertSyncedTwin(tx, twin, input.source);
    }
    // No foreign key holds the twin under the identities written below (docs/imports.md): its key lock does. A twin
    // removed since it was read (an orphan sweep) fails the reconcile, retried on what is stored then.
    if (!(await lockTwinKey(tx, twin.uuid))) throw new TwinRemovedMeanwhile(twin.uuid);

    const stored = new Map<string, [string, string, string | null, number | null, number, number]>();
    for (const row of current.identities ?? []) stored.set(`${row[1]} ${row[0]}`, row);
    const added: PlannedIdentity[] = [];
    const changed: PlannedIdentity[] = [];
    for (const p of identities.personal) {
      const key = `${account} ${p.name}`;
      const row = stored.get(key);
      stored.delete(key);
      if (!row) {
        added.push(p);
      } else if (
        row[3] !== p.validityTs ||
        row[4] !== p.createdTs ||
        row[5] !== p.updatedTs ||
        (p.visibility !== undefined && row[2] !== p.visibility)
      ) {
        changed.push(p);
      }
    }
    // New to this source: a plain insert; a key held by a row of another source or of the API is upserted below.
    let upserted = 0;
    if (added.length) {
      const inserted = new Set(await insertSyncedIdentities(tx, twin.uuid, account, input.source, added));
      upserted += inserted.size;
      for (const p of added) if (!inserted.has(p.name)) changed.push(p);
    }
    // Upstream gives the rule of personal identities; where it does not, the stored rule stays (new rows: private).
    const withRule = changed.filter((p) => p.visibility !== undefined);
    const withoutRule = changed.filter((p) => p.visibility === undefined);
    if (withRule.length)
      upserted += await upsertSyncedIdentities(tx, twin.uuid, account, input.source, withRule, true);
    if (withoutRule.length)
      upserted += await upsertSyncedIdentities(tx, twin.uuid, account, input.source, withoutRule, false);
    let deleted = 0;
    // What is left of this source's rows, upstream no longer has.
    if (stored.size) {
      const gone = [...stored.values()];
      deleted += await deleteSyncedIdentities(
        tx,
        input.source,
        twin.uuid,
        gone.map((r) => r[0]),
        gone.map((r) => r[1]),
      );
    }
    // With include_foreign off there are no grants of this source (switching it off revoked them). With it switched
    // on after this fetch was made without foreign identities, grants stay as they are until the next sync.
    if (current.include_foreign && state.fetchedForeign) {
      const grants = await reconcileSourceGrants(tx, input.source, twin.uuid, account, identities.grants);
      upserted += grants.upserted;
      deleted += grants.deleted;
    }
    return { upserted, deleted };
  }

  /** Upstream answered 404 for the twin: it leaves this source's rows (and the index, if nothing else holds it). */
  private async applyAbsent(
    tx: Queryable,
    input: ReconcileInput,
  ): Promise<{ upserted: number; deleted: number }> {
    const twins = [input.twin];
    const identities = await deleteSourceIdentitiesOfTwins(tx, input.source, twins);
    const grants = await revokeSourceGrantsOfTwins(tx, input.source, twins);
    return { upserted: 0, deleted: identities + grants };
  }
}

/**
 * A twin upstream may not bring: refused for good (no retry), reported in the run, nothing of it written. Not an
 * upstream fault that may pass, so it is a non-retryable UpstreamError.
 */
export class OwnershipConflict extends UpstreamError {
  override name = 'OwnershipConflict';
  constructor(twin: string, reason: string) {
    super(`twin ${twin} refused: ${reason}`, false);
  }
}

/** The twin went between the reconcile's read and its lock: a plain (retryable) error, not an upstream fault. */
export class TwinRemovedMeanwhile extends Error {
  override name = 'TwinRemovedMeanwhile';
  constructor(twin: string) {
    super(`twin ${twin} was removed while it was being reconciled`);
  }
}

async function accountExists(tx: Queryable, uuid: string): Promise<boolean> {
  const rows = await tx.query(`SELECT 1 FROM accounts WHERE uuid = $1`, [uuid]);
  return rows.length > 0;
}

/** True when the stored twin should be written: absent, or a synced twin that upstream changed. */
function twinDiffers(stored: StoredTwin | null, t: PlannedTwin): boolean {
  if (stored === null) return true;
  // A twin created through this instance's API is never overwritten by an upstream.
  if (stored.source === null) return false;
  return (
    stored.owner !== t.owner ||
    stored.status !== t.status ||
    stored.creator !== t.creator ||
    stored.created_ts !== t.createdTs ||
    stored.updated_ts !== t.updatedTs ||
    stored.terminated_ts !== t.terminatedTs ||
    stored.terminator !== t.terminator ||
    canonicalJson(stored.description) !== canonicalJson(t.description)
  );
}

/** JSON with object keys sorted, so jsonb (which reorders keys) and upstream objects compare. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
