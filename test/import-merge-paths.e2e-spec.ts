import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { Db } from '../libs/store/db.js';
import { type ImportWrite, mergeImportBatch } from '../libs/store/identity.repository.js';
import { ImportMergeService } from '../libs/imports/import-merge.service.js';
import { StageTally } from '../libs/imports/import-staging.js';
import { ImportsRepository } from '../libs/imports/imports.repository.js';
import { aName, aTwin, anIdentity, attach } from './support/factories.js';
import { TestApi, type TestAccount } from './support/test-app.js';

/**
 * The merge writes a batch with a plain INSERT while none of its keys exists yet, and with the upsert otherwise
 * (the insert, tried first, fails on the first existing key and is rolled back). Whichever write is asked for, a
 * batch must leave the same identities behind: the last line of each key wins, other accounts' twins and unknown
 * twins are skipped (and answered), and keys the batch does not name are not touched.
 */
describe('Import merge: plain insert and upsert give the same end state', () => {
  let api: TestApi;
  let pool: Pool;
  let db: Db;
  let bob: TestAccount;
  let bobsTwin: string;

  beforeAll(async () => {
    api = await TestApi.start();
    pool = new Pool({ connectionString: api.config.DATABASE_URL, max: 2 });
    db = new Db(pool);
    bob = await api.createAccount('bob');
    bobsTwin = (await aTwin(api, bob)).uuid;
  }, 60_000);

  afterAll(async () => {
    await pool.end();
    await api.stop();
  }, 60_000);

  interface Line {
    twin: string;
    name: string;
    visibility: string | null;
    validityTs: number | null;
  }

  /** A batch over two of the account's twins: a key repeated (the later line wins), and two lines to skip. */
  function aBatch(twins: [string, string], names: string[]): Line[] {
    const [a, b] = twins;
    return [
      { twin: a, name: names[0], visibility: null, validityTs: null },
      { twin: a, name: names[1], visibility: 'true', validityTs: 10 },
      { twin: randomUUID(), name: names[2], visibility: null, validityTs: null },
      { twin: b, name: names[2], visibility: 'false', validityTs: null },
      { twin: a, name: names[0], visibility: 'true', validityTs: 20 },
      { twin: bobsTwin, name: names[3], visibility: null, validityTs: null },
      { twin: b, name: names[3], visibility: null, validityTs: 30 },
    ];
  }

  /** What the batch must leave: per key, the attributes of its last line on an owned twin. */
  function expected(lines: Line[], owned: Set<string>): Array<Record<string, unknown>> {
    const last = new Map<string, Line>();
    for (const l of lines) if (owned.has(l.twin)) last.set(`${l.name} ${l.twin}`, l);
    return [...last.values()]
      .map((l) => ({ name: l.name, twin: l.twin, visibility: l.visibility, validity_ts: l.validityTs }))
      .sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : x.twin < y.twin ? -1 : 1));
  }

  /** Stages the lines as import_rows, numbered 1, 2, … or as `numbers` says. */
  async function stage(lines: Line[], numbers = lines.map((_, i) => i + 1)): Promise<string> {
    const importId = randomUUID();
    await pool.query(
      `INSERT INTO import_rows (import, line, twin, name, visibility, validity_ts)
       SELECT $1, u.line, u.twin, u.name, u.visibility, u.validity_ts
         FROM unnest($2::bigint[], $3::uuid[], $4::text[], $5::text[], $6::float8[])
              AS u(line, twin, name, visibility, validity_ts)`,
      [
        importId,
        numbers,
        lines.map((l) => l.twin),
        lines.map((l) => l.name),
        lines.map((l) => l.visibility),
        lines.map((l) => l.validityTs),
      ],
    );
    return importId;
  }

  function batchOf(
    importId: string,
    lastLine: number,
    party: TestAccount,
    maxUnknown: number,
    lane = 0,
    lanes = 1,
  ) {
    return {
      importId,
      afterLine: 0,
      lastLine,
      account: party.account,
      creator: party.user,
      nowTs: 1_000,
      lane,
      lanes,
      maxUnknown,
    };
  }

  async function identitiesOf(owner: string, names: string[]): Promise<Array<Record<string, unknown>>> {
    const { rows } = await pool.query<Record<string, unknown>>(
      `SELECT name, twin, visibility, validity_ts FROM identities WHERE owner = $1 AND name = ANY($2)
        ORDER BY name, twin`,
      [owner, names],
    );
    return rows;
  }

  // aBatch repeats a key, which fails the plain insert as an existing key does: such a batch is upserted.
  const cases: Array<{ asked: ImportWrite; existing: boolean; taken: ImportWrite }> = [
    { asked: 'insert', existing: false, taken: 'upsert' },
    { asked: 'upsert', existing: false, taken: 'upsert' },
    { asked: 'insert', existing: true, taken: 'upsert' },
    { asked: 'upsert', existing: true, taken: 'upsert' },
  ];

  it.each(cases)(
    'asked $asked with keys existing: $existing → written by $taken, same end state',
    async ({ asked, existing, taken }) => {
      const alice = await api.createAccount('alice');
      const twins: [string, string] = [(await aTwin(api, alice)).uuid, (await aTwin(api, alice)).uuid];
      const names = [aName(), aName(), aName(), aName()];
      const untouched = aName();
      if (existing) {
        // names[0] exists with other attributes (to be replaced), names[1] exactly as the batch has it (stays),
        // and a key the batch does not name (must not change).
        await attach(api, alice, twins[0], {
          [names[0]]: anIdentity({ visibility: 'false', validity_ts: 5 }),
          [names[1]]: anIdentity({ visibility: 'true', validity_ts: 10 }),
          [untouched]: anIdentity({ visibility: 'true' }),
        });
      }
      const before = await identitiesOf(alice.account, [untouched]);
      const lines = aBatch(twins, names);
      const importId = await stage(lines);

      const merged = await db.transaction((tx) =>
        mergeImportBatch(tx, batchOf(importId, lines.length, alice, 1_000), asked),
      );

      expect(merged.write).toBe(taken);
      expect(merged).toEqual({
        write: taken,
        lines: 7,
        skipped: 2,
        // Four keys of alice's twins; one of them already stored exactly as the batch has it is not written.
        changed: existing ? 3 : 4,
        unknown: [
          { line: 3, twin: lines[2].twin },
          { line: 6, twin: bobsTwin },
        ],
      });
      expect(await identitiesOf(alice.account, names)).toEqual(expected(lines, new Set(twins)));
      expect(await identitiesOf(alice.account, [untouched])).toEqual(before);
      const { rows: onBobsTwin } = await pool.query('SELECT 1 FROM identities WHERE twin = $1', [bobsTwin]);
      expect(onBobsTwin).toHaveLength(0);
    },
  );

  it('a batch with no existing and no repeated key is written by the plain insert, with the same end state', async () => {
    const alice = await api.createAccount('alice');
    const twins: [string, string] = [(await aTwin(api, alice)).uuid, (await aTwin(api, alice)).uuid];
    const names = [aName(), aName(), aName(), aName()];
    // aBatch without its fifth line, the repeat of the first line's key.
    const lines = aBatch(twins, names).filter((_, i) => i !== 4);
    const importId = await stage(lines);

    const merged = await db.transaction((tx) =>
      mergeImportBatch(tx, batchOf(importId, lines.length, alice, 1_000), 'insert'),
    );

    expect(merged).toEqual({
      write: 'insert',
      lines: 6,
      skipped: 2,
      changed: 4,
      unknown: [
        { line: 3, twin: lines[2].twin },
        { line: 5, twin: bobsTwin },
      ],
    });
    expect(await identitiesOf(alice.account, names)).toEqual(expected(lines, new Set(twins)));
  });

  it('a batch whose twins are all unknown writes nothing and answers every line (first ones only)', async () => {
    const alice = await api.createAccount('alice');
    const lines: Line[] = Array.from({ length: 5 }, () => ({
      twin: randomUUID(),
      name: aName(),
      visibility: null,
      validityTs: null,
    }));
    const importId = await stage(lines);
    const merged = await db.transaction((tx) =>
      mergeImportBatch(tx, batchOf(importId, 5, alice, 3), 'insert'),
    );
    expect(merged.skipped).toBe(5);
    expect(merged.changed).toBe(0);
    expect(merged.unknown.map((u) => u.line)).toEqual([1, 2, 3]);
    expect(
      await identitiesOf(
        alice.account,
        lines.map((l) => l.name),
      ),
    ).toEqual([]);
  });
  it('the service merges batch by batch across gaps in the line numbers: every staged row once, the later line wins', async () => {
    const alice = await api.createAccount('alice');
    const twins: [string, string] = [(await aTwin(api, alice)).uuid, (await aTwin(api, alice)).uuid];
    const names = [aName(), aName(), aName(), aName()];
    const lines = aBatch(twins, names);
    // Numbered as a body with bad or blank lines between them leaves them: the gap 7 → 19 is longer than a batch.
    const numbers = [1, 2, 5, 6, 7, 19, 20];
    const importId = await stage(lines, numbers);
    const imports = new ImportsRepository(db);
    await imports.create(db, {
      uuid: importId,
      account: alice.account,
      creator: alice.user,
      format: 'ndjson',
      createdTs: 1_000,
    });
    const tally = new StageTally();
    tally.received = 20;
    tally.staged = lines.length;
    tally.skipped = 20 - lines.length;
    await imports.setStaged(db, importId, tally);

    const progress: number[] = [];
    // Batches of 3 lines: (0, 3] holds lines 1–2 (plain insert), (4, 7] lines 5–7 (line 7 repeats line 1's key: the
    // insert fails and the batch is upserted), (18, 21] lines 19–20.
    const outcome = await new ImportMergeService(db, imports).merge(
      importId,
      async (p) => {
        progress.push(p);
      },
      3,
    );

    expect(outcome).toEqual({ status: 'completed', imported: 5, changed: 5, skipped: 13 + 2 });
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.length).toBe(4);
    expect(progress.at(-1)).toBe(100);
    expect(await identitiesOf(alice.account, names)).toEqual(expected(lines, new Set(twins)));
    const report = await imports.find(importId);
    expect(report).toMatchObject({ status: 'completed', processed: '20', imported: '5', skipped: '15' });
    expect(report?.errors.map((e) => [e.line, e.subcode])).toEqual([
      [5, 'twin_not_found'],
      [19, 'twin_not_found'],
    ]);
    const { rows: left } = await pool.query('SELECT 1 FROM import_rows WHERE import = $1', [importId]);
    expect(left).toHaveLength(0);
  });
});
