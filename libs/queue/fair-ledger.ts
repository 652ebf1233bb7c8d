import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';

/** BullMQ's lowest priority (2^21 - 1); a larger one is refused by `add`. */
export const MAX_PRIORITY = 2_097_151;

/**
 * Which ledger groups a job of one queue is counted in, read from its id and data (so a worker, a producer and the
 * reconcile agree without storing anything more per job). The first group decides the job's turn; null: the job is
 * not counted (added by BullMQ itself, such as a job scheduler's, or coalesced into a pending one).
 */
export type FairGroups = (job: { id?: string | null; data: unknown }) => readonly string[] | null;

/** A group and the most jobs it may have pending (null: no cap, the group is only counted). */
export interface GroupCap {
  group: string;
  cap: number | null;
}

export type Reservation =
  { ok: true; first: number } | { ok: false; group: string; count: number; cap: number };

/** The states in which a job still takes a place: it will run, is running, or will run again. */
const PENDING_LISTS = ['wait', 'paused', 'active'] as const;
const PENDING_SETS = ['prioritized', 'delayed', 'waiting-children'] as const;
const PAGE = 1_000;

// Checks every cap, then counts n more in every group; answers {1, count of the first group before} or
// {0, index of the group over its cap, its count}. One script, so concurrent producers cannot both pass a cap.
const RESERVE = `
local n = tonumber(ARGV[1])
for i = 2, #ARGV, 2 do
  local cap = tonumber(ARGV[i + 1])
  if cap >= 0 then
    local c = tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '0')
    if c + n > cap then return {0, (i - 2) / 2, c} end
  end
end
local first = tonumber(redis.call('HGET', KEYS[1], ARGV[2]) or '0')
for i = 2, #ARGV, 2 do redis.call('HINCRBY', KEYS[1], ARGV[i], n) end
return {1, first}
`;

// Gives n places back in every group; an empty group's field is removed, so the hash holds busy groups only.
const RELEASE = `
local n = tonumber(ARGV[1])
for i = 2, #ARGV do
  if redis.call('HINCRBY', KEYS[1], ARGV[i], -n) <= 0 then redis.call('HDEL', KEYS[1], ARGV[i]) end
end
return 1
`;

// Replaces the counts with those read from the queue, plus what producers and workers changed while it was read
// (now - snapshot), so a reconcile racing with adds and finishes loses none of them.
const REPAIR = `
local counted = cjson.decode(ARGV[1])
local snapshot = cjson.decode(ARGV[2])
local now = {}
local flat = redis.call('HGETALL', KEYS[1])
for i = 1, #flat, 2 do now[flat[i]] = tonumber(flat[i + 1]) end
local fields = {}
for f in pairs(counted) do fields[f] = true end
for f in pairs(snapshot) do fields[f] = true end
for f in pairs(now) do fields[f] = true end
local changed = 0
for f in pairs(fields) do
  local want = (counted[f] or 0) + (now[f] or 0) - (snapshot[f] or 0)
  if want ~= (now[f] or 0) then changed = changed + 1 end
  if want > 0 then redis.call('HSET', KEYS[1], f, want) else redis.call('HDEL', KEYS[1], f) end
end
return changed
`;

/** What a ledger needs of a BullMQ queue or worker: its key names and its Redis backend's client. */
export interface QueueLike {
  readonly name: string;
  readonly backend: unknown;
  toKey(type: string): string;
}

/**
 * The pending jobs of one queue, counted per group (an account, a source…) in one Redis hash beside the queue's own
 * keys (docs/sync.md "Fair shares"). Producers reserve places before adding, workers give them back when a job ends;
 * the n-th pending job of a group is added with BullMQ priority n, so the queue takes the groups in turn. The counts
 * are a cache of the queue's contents: `reconcile` recounts them from the queue, so a crash between a job's end and
 * its release costs a place only until the next reconcile, never for good.
 *
 * Turns order accounts, not one account's jobs: a job added once some of the account's jobs have ended gets a lower
 * number than jobs it finds waiting, and runs before them. A queue whose jobs must keep their order (deliveries in
 * sequence) keeps it itself, e.g. one job per subscription that takes the next message when it runs.
 */
export class FairLedger {
  readonly key: string;

  constructor(
    private readonly queue: QueueLike,
    readonly groupsOf: FairGroups,
  ) {
    this.key = queue.toKey('fair');
  }

  private async redis(): Promise<Redis> {
    // BullMQ 6 keeps the raw client on its Redis backend (`Queue.client` of earlier versions).
    return await (this.queue.backend as { client: Promise<Redis> }).client;
  }

  /**
   * Takes n places in every group, unless one would pass its cap; the first group decides the turns, which are
   * `turn(first, 0..n-1)`.
   */
  async reserve(groups: readonly GroupCap[], n: number): Promise<Reservation> {
    if (groups.length === 0) throw new Error('a reservation names at least one group');
    const args = groups.flatMap((g) => [g.group, String(g.cap ?? -1)]);
    const [ok, a, b] = (await (
      await this.redis()
    ).eval(RESERVE, 1, this.key, String(n), ...args)) as number[];
    if (ok === 1) return { ok: true, first: a };
    return { ok: false, group: groups[a].group, count: b, cap: groups[a].cap ?? 0 };
  }

  async release(groups: readonly string[], n = 1): Promise<void> {
    if (groups.length === 0 || n <= 0) return;
    await (await this.redis()).eval(RELEASE, 1, this.key, String(n), ...groups);
  }

  /** The pending count of each group, in order. */
  async counts(groups: readonly string[]): Promise<number[]> {
    if (groups.length === 0) return [];
    const values = await (await this.redis()).hmget(this.key, ...groups);
    return values.map((v) => Number(v ?? 0));
  }

  /** A job has ended for good (completed, or failed with no attempt left): its places are free. */
  async settle(job: Pick<Job, 'id' | 'data'>): Promise<void> {
    const groups = this.groupsOf(job);
    if (groups) await this.release(groups);
  }

  /**
   * True for one caller per `ms` across every process sharing the queue: periodic reconciles are taken in turn, so a
   * fleet of workers reads the queue once per period, not once per worker.
   */
  async claimReconcile(ms: number): Promise<boolean> {
    return (await (await this.redis()).set(`${this.key}:reconciled`, '1', 'PX', ms, 'NX')) === 'OK';
  }

  /**
   * Recounts every group from the jobs pending in the queue (ids page by page, then each job's data) and stores
   * the result, keeping what changed meanwhile. A job that moved between states while it was read may be counted
   * twice or not at all; the next pass corrects that. Answers how many groups' counts were wrong.
   */
  async reconcile(): Promise<number> {
    const redis = await this.redis();
    const snapshot = await redis.hgetall(this.key);
    const counted: Record<string, number> = {};
    for (const state of [...PENDING_LISTS, ...PENDING_SETS]) {
      const key = this.queue.toKey(state);
      const isList = (PENDING_LISTS as readonly string[]).includes(state);
      for (let start = 0; ; start += PAGE) {
        const ids = isList
          ? await redis.lrange(key, start, start + PAGE - 1)
          : await redis.zrange(key, start, start + PAGE - 1);
        if (ids.length === 0) break;
        const pipeline = redis.pipeline();
        for (const id of ids) pipeline.hget(this.queue.toKey(id), 'data');
        const datas = (await pipeline.exec()) ?? [];
        ids.forEach((id, i) => {
          const raw = datas[i]?.[1];
          if (typeof raw !== 'string') return;
          let data: unknown;
          try {
            data = JSON.parse(raw);
          } catch {
            return;
          }
          for (const g of this.groupsOf({ id, data }) ?? []) counted[g] = (counted[g] ?? 0) + 1;
        });
        if (ids.length < PAGE) break;
      }
    }
    const snapshotCounts = Object.fromEntries(Object.entries(snapshot).map(([k, v]) => [k, Number(v)]));
    // cjson decodes an empty object as an empty table either way; '{}' keeps the script's input uniform.
    return (await redis.eval(
      REPAIR,
      1,
      this.key,
      JSON.stringify(counted),
      JSON.stringify(snapshotCounts),
    )) as number;
  }
}

/** The BullMQ priority of the i-th job (from 0) of a reservation whose first group had `first` pending. */
export function turn(first: number, i: number): number {
  return Math.min(MAX_PRIORITY, Math.max(1, first + i + 1));
}
