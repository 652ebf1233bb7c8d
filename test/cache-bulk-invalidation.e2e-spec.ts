/**
 * Bulk writes invalidate what they wrote (issue #21, docs/resolution.md "What the cache means for you"): two API
 * instances and a worker; tenant X imports 6,000 lines (one merge statement of more than 5,000 rows) while tenant Y's
 * warm names sit in instance B's cache. Y's names must stay cached on B, and X's names — cached on both instances as
 * "nothing there" before the import — must resolve to X's twin on both within the coherence bound.
 */
import type { INestApplicationContext } from '@nestjs/common';
import { Pool } from 'pg';
import { aName, aTwin, expectStatus, Fixtures, type Party } from './support/factories.js';
import type { TestApi } from './support/test-app.js';
import {
  cacheFigures,
  eventually,
  type InstancePair,
  LagRecorder,
  resolveNames as resolveAll,
  startTwoInstances,
} from './support/two-instances.js';
import { clearQueues, startWorker, waitFor } from './upstream-simulator/sync-harness.js';

async function importLines(
  api: TestApi,
  party: Party,
  twin: string,
  names: string[],
  visibility: string | null = null,
): Promise<void> {
  const raw = names.map((identity) => JSON.stringify({ twin, identity, visibility })).join('\n') + '\n';
  const res = await api.post<{ uuid: string }>('/imports', {
    secret: party.secret,
    raw,
    headers: { 'content-type': 'application/x-ndjson' },
  });
  expectStatus(res, 202);
  const report = await waitFor(
    async () => {
      const r = await api.get<{ status: string; counts: { changed: number } }>(`/imports/${res.body.uuid}`, {
        secret: party.secret,
      });
      return r.body.status === 'completed' || r.body.status === 'failed' ? r.body : undefined;
    },
    'import',
    60_000,
  );
  expect(report).toMatchObject({ status: 'completed', counts: { changed: names.length } });
}

describe('bulk writes invalidate only what they wrote', () => {
  let pair: InstancePair;
  let a: TestApi;
  let b: TestApi;
  let worker: INestApplicationContext;
  let pool: Pool;
  let x: Party;
  let y: Party;
  let xTwin: string;
  const yNames: string[] = [];
  const lag = new LagRecorder();

  beforeAll(async () => {
    pair = await startTwoInstances();
    ({ a, b } = pair);
    worker = await startWorker(pair.config);
    pool = new Pool({ connectionString: pair.config.DATABASE_URL, max: 2 });
    const fx = await Fixtures.connect(a);
    x = await fx.anAccount('x');
    y = await fx.anAccount('y');
    xTwin = (await aTwin(a, x)).uuid;
    const yTwin = (await aTwin(a, y)).uuid;
    for (let i = 0; i < 300; i++) yNames.push(aName('YWARM'));
    await importLines(a, y, yTwin, yNames);
    // Y's names are warm on B: every one of them resolves to Y's twin from B's cache.
    await eventually(
      () => resolveAll(b, y, yNames),
      (m) => yNames.every((n) => m.get(n)?.[0] === yTwin),
      { withinMs: 5000, what: "Y's names on B" },
    );
  }, 120_000);

  afterAll(async () => {
    console.log(`bulk invalidation: ${lag.summary()}`);
    await worker.close();
    await pool.end();
    await clearQueues(pair.config);
    await pair.stop();
  }, 60_000);

  /** Y's warm names answered again on B: how many of them B had to load. */
  async function yMissesOnB(): Promise<number> {
    const before = await cacheFigures(b, 'identity');
    const again = await resolveAll(b, y, yNames);
    expect(yNames.every((n) => again.get(n)?.length === 1)).toBe(true);
    const after = await cacheFigures(b, 'identity');
    return after.misses - before.misses;
  }

  /** X's names, not written yet, are cached on both instances as "nothing there". */
  async function cachedAsNothingOnBoth(names: string[]): Promise<void> {
    for (const api of [a, b]) {
      const before = await resolveAll(api, x, names);
      expect(names.every((n) => before.get(n)?.length === 0)).toBe(true);
    }
  }

  /** X's written names resolve to X's twin on both instances within the bound. */
  async function freshOnBoth(names: string[], what: string, withinMs?: number): Promise<void> {
    for (const [label, api] of [
      ['A', a],
      ['B', b],
    ] as const) {
      const fresh = await eventually(
        () => resolveAll(api, x, names),
        (m) => names.every((n) => m.get(n)?.[0] === xTwin),
        { withinMs, what: `X's names after the ${what} on ${label}` },
      );
      lag.add(`${what} on ${label}`, fresh.lagMs);
    }
  }

  it("keeps Y's warm names cached on another instance while X imports 6,000 lines", async () => {
    expect(await yMissesOnB()).toBe(0);
    const xNames = Array.from({ length: 6000 }, () => aName('XIMP'));
    // X's names are cached as "nothing there" on both instances before the import.
    const probe = xNames.slice(0, 500);
    await cachedAsNothingOnBoth(probe);

    await importLines(a, x, xTwin, xNames);
    await freshOnBoth(probe, 'import');
    expect(await yMissesOnB()).toBe(0);

    // Again, now rewriting every one of the 6,000 rows (an update of each): the same.
    await importLines(a, x, xTwin, xNames, 'true');
    expect(await yMissesOnB()).toBe(0);
  }, 120_000);

  it("keeps Y's warm names cached when one statement writes more than 100,000 of X's rows", async () => {
    const probe = Array.from({ length: 200 }, (_, i) => `XBIG#p${i}-${Date.now()}`);
    await cachedAsNothingOnBoth(probe);
    const started = performance.now();
    // One statement, as a bulk tool or psql would write it: the probe names plus 110,000 others.
    await pool.query(
      `INSERT INTO identities (name, twin, owner, created_ts, updated_ts, creator)
       SELECT n, $1, $2, 1, 1, $2 FROM (SELECT unnest($3::text[]) AS n
                                       UNION ALL SELECT 'XBIG#' || md5(g::text) FROM generate_series(1, 110000) g) s`,
      [xTwin, x.account, probe],
    );
    console.log(`110,200-row statement took ${Math.round(performance.now() - started)} ms`);
    await freshOnBoth(probe, '110k statement', 5000);
    expect(await yMissesOnB()).toBe(0);
  }, 120_000);
});
