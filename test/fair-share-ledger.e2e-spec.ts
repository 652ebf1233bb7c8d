/**
 * The fair-share ledger against a real Redis (libs/queue/fair-ledger.ts): caps hold under concurrent producers,
 * releases never go below zero, and a reconcile recounts from the queue while keeping what changed meanwhile.
 */
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { bullConnection } from '../libs/queue/bull-connection.js';
import { FairLedger, MAX_PRIORITY, turn } from '../libs/queue/fair-ledger.js';
import { accountGroup, COUNTED_TWIN_JOB, FAIR_GROUPS, sourceGroup } from '../libs/queue/fair-groups.js';
import { QUEUES } from '../libs/queue/job-catalogue.js';
import { isolatedConfig, removeRedisKeys } from './support/test-env.js';

describe('FairLedger', () => {
  const config = isolatedConfig();
  let queue: Queue;
  let ledger: FairLedger;
  let redis: Redis;

  beforeAll(async () => {
    queue = new Queue(QUEUES.syncTwins, { connection: bullConnection(config), prefix: config.REDIS_PREFIX });
    ledger = new FairLedger(queue, FAIR_GROUPS[QUEUES.syncTwins]);
    redis = new Redis(config.REDIS_URL);
  });
  afterAll(async () => {
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    redis.disconnect();
    await removeRedisKeys(config);
  });
  beforeEach(async () => {
    await queue.obliterate({ force: true });
    await redis.del(ledger.key);
  });

  it('never lets concurrent reservations pass a cap, and answers each its first turn', async () => {
    const group = accountGroup(randomUUID());
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => ledger.reserve([{ group, cap: 20 }], 3)),
    );
    const granted = answers.filter((a) => a.ok);
    expect(granted).toHaveLength(6);
    expect(granted.map((a) => (a.ok ? a.first : -1)).sort((a, b) => a - b)).toEqual([0, 3, 6, 9, 12, 15]);
    const refused = answers.find((a) => !a.ok);
    expect(refused).toEqual({ ok: false, group, count: 18, cap: 20 });
    expect(await ledger.counts([group])).toEqual([18]);
  });

  it('refuses a reservation whole when any group is at its cap', async () => {
    const account = accountGroup(randomUUID());
    const source = sourceGroup(randomUUID());
    await ledger.reserve([{ group: source, cap: null }], 5);
    const answer = await ledger.reserve(
      [
        { group: account, cap: 100 },
        { group: source, cap: 6 },
      ],
      2,
    );
    expect(answer).toEqual({ ok: false, group: source, count: 5, cap: 6 });
    expect(await ledger.counts([account, source])).toEqual([0, 5]);
  });

  it('gives places back without going below zero, and forgets empty groups', async () => {
    const group = accountGroup(randomUUID());
    await ledger.reserve([{ group, cap: null }], 2);
    await ledger.release([group], 5);
    expect(await ledger.counts([group])).toEqual([0]);
    expect(await redis.hexists(ledger.key, group)).toBe(0);
  });

  it('lets one caller per period reconcile', async () => {
    await redis.del(`${ledger.key}:reconciled`);
    expect(await ledger.claimReconcile(60_000)).toBe(true);
    expect(await ledger.claimReconcile(60_000)).toBe(false);
  });

  it('turns start at 1 and stop at BullMQ’s lowest priority', () => {
    expect(turn(0, 0)).toBe(1);
    expect(turn(4, 2)).toBe(7);
    expect(turn(MAX_PRIORITY, 10)).toBe(MAX_PRIORITY);
  });

  it('recounts from the pending jobs, counting only the jobs it counted', async () => {
    const account = randomUUID();
    const source = randomUUID();
    const data = (twin: string) => ({ sourceId: source, account, twin });
    // Three counted jobs (one delayed), one a coalescing add left uncounted; the ledger says 10 (a crash leaked 7).
    await queue.add('sync-twin', data('a'), { jobId: `${COUNTED_TWIN_JOB}${randomUUID()}`, priority: 1 });
    await queue.add('sync-twin', data('b'), { jobId: `${COUNTED_TWIN_JOB}${randomUUID()}`, priority: 2 });
    await queue.add('sync-twin', data('c'), {
      jobId: `${COUNTED_TWIN_JOB}${randomUUID()}`,
      priority: 3,
      delay: 60_000,
    });
    await queue.add('sync-twin', data('d'), { priority: 1 });
    await ledger.reserve(
      [
        { group: accountGroup(account), cap: null },
        { group: sourceGroup(source), cap: null },
      ],
      10,
    );
    expect(await ledger.reconcile()).toBe(2);
    expect(await ledger.counts([accountGroup(account), sourceGroup(source)])).toEqual([3, 3]);
    // Already right: nothing to repair.
    expect(await ledger.reconcile()).toBe(0);
  });
});
