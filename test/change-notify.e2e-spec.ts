import { Client, type Notification } from 'pg';
import { aTwin } from './support/factories.js';
import { TestApi } from './support/test-app.js';

/**
 * The change triggers' messages on `twindex_changes` (migrations: twindex_rows_changed): a statement's keys in
 * chunks of at most 8,000 bytes, whatever its size — an insert's or a delete's as its rows carry them, an update's
 * once each up to 50,000 rows — and never a flush (`*`), which would empty every tenant's cache for one tenant's write.
 */
describe('Change notifications of small and big statements', () => {
  let api: TestApi;
  let listener: Client;
  let writer: Client;
  let twin: string;
  let account: string;
  const received: string[] = [];
  const payloadBytes: number[] = [];

  beforeAll(async () => {
    api = await TestApi.start();
    const alice = await api.createAccount('alice');
    account = alice.account;
    twin = (await aTwin(api, alice)).uuid;
    listener = new Client({ connectionString: api.config.DATABASE_URL });
    writer = new Client({ connectionString: api.config.DATABASE_URL });
    await Promise.all([listener.connect(), writer.connect()]);
    listener.on('notification', (n: Notification) => {
      received.push(n.payload ?? '');
      payloadBytes.push(Buffer.byteLength(n.payload ?? ''));
    });
    await listener.query('LISTEN twindex_changes');
  }, 60_000);

  afterAll(async () => {
    await Promise.all([listener.end(), writer.end()]);
    await api.stop();
  }, 60_000);

  /** The keys of the identity messages a statement sends ('*' for a flush). */
  async function keysOf(sql: string, params: unknown[]): Promise<string[]> {
    received.length = 0;
    payloadBytes.length = 0;
    await writer.query(sql, params);
    // A round trip on the listening connection: the notifications committed before it have arrived.
    await listener.query('SELECT 1');
    return received
      .filter((p) => p.startsWith('i|'))
      .flatMap((p) => p.split('|')[2].split(','))
      .sort();
  }

  // `rows` identities named from `names` distinct names: owners differ, so every row is a key of its own.
  const insert = (rows: number, names: number, prefix: string) =>
    keysOf(
      `INSERT INTO identities (name, twin, owner, visibility, validity_ts, created_ts, updated_ts, creator)
       SELECT $3 || (g % $2), $1, gen_random_uuid(), NULL, NULL, 0, 0, $4 FROM generate_series(1, $5) g`,
      [twin, names, prefix, account, rows],
    );

  const distinct = (keys: string[]) => [...new Set(keys)].sort();

  it('a small statement sends its names', async () => {
    expect(distinct(await insert(3, 2, 'FEW#a'))).toEqual(['FEW#a0', 'FEW#a1']);
  });

  it('5,000 rows of 5,000 names still send every name (in chunks)', async () => {
    const keys = await insert(5_000, 5_000, 'MANY#b');
    expect(keys).toHaveLength(5_000);
    expect(new Set(keys).size).toBe(5_000);
  });

  it('more than 5,000 rows send their names, not a flush (updates and deletes too)', async () => {
    expect(distinct(await insert(5_001, 2, 'FEW#c'))).toEqual(['FEW#c0', 'FEW#c1']);
    // An update names each key once (old and new rows alike), up to 50,000 rows.
    expect(await keysOf(`UPDATE identities SET visibility = 'true' WHERE name LIKE 'FEW#c%'`, [])).toEqual([
      'FEW#c0',
      'FEW#c1',
    ]);
    const deleted = await keysOf(`DELETE FROM identities WHERE name LIKE 'FEW#c%'`, []);
    expect(distinct(deleted)).toEqual(['FEW#c0', 'FEW#c1']);
    expect(distinct(await keysOf(`DELETE FROM identities WHERE name LIKE 'FEW#a%'`, []))).toEqual([
      'FEW#a0',
      'FEW#a1',
    ]);
  });

  it('100,000 rows of 100,000 names send every name, in messages below the 8,000-byte limit', async () => {
    const keys = await insert(100_000, 100_000, 'MANY#d');
    expect(keys).toHaveLength(100_000);
    expect(new Set(keys).size).toBe(100_000);
    console.log(`100,000 names: ${payloadBytes.length} messages, largest ${Math.max(...payloadBytes)} bytes`);
    expect(Math.max(...payloadBytes)).toBeLessThan(8000);
  }, 60_000);

  it('an update of more than 50,000 rows sends its names (repeats allowed) and no flush', async () => {
    await insert(50_001, 3, 'FEW#e');
    const keys = await keysOf(`UPDATE identities SET visibility = 'true' WHERE name LIKE 'FEW#e%'`, []);
    expect(keys).not.toContain('*');
    expect(new Set(keys)).toEqual(new Set(['FEW#e0', 'FEW#e1', 'FEW#e2']));
    expect(Math.max(...payloadBytes)).toBeLessThan(8000);
  }, 60_000);
});
