import { Client, type Notification } from 'pg';
import { aTwin } from './support/factories.js';
import { TestApi } from './support/test-app.js';

/**
 * The change triggers' messages on `twindex_changes` (migrations: twindex_rows_changed): a statement's keys, in
 * chunks, up to 5,000 rows; beyond that one flush (`*`), decided by counting the rows rather than collecting
 * every distinct key first (an import batch writes 100k rows).
 */
describe('Change notifications of small and big statements', () => {
  let api: TestApi;
  let listener: Client;
  let writer: Client;
  let twin: string;
  let account: string;
  const received: string[] = [];

  beforeAll(async () => {
    api = await TestApi.start();
    const alice = await api.createAccount('alice');
    account = alice.account;
    twin = (await aTwin(api, alice)).uuid;
    listener = new Client({ connectionString: api.config.DATABASE_URL });
    writer = new Client({ connectionString: api.config.DATABASE_URL });
    await Promise.all([listener.connect(), writer.connect()]);
    listener.on('notification', (n: Notification) => received.push(n.payload ?? ''));
    await listener.query('LISTEN twindex_changes');
  }, 60_000);

  afterAll(async () => {
    await Promise.all([listener.end(), writer.end()]);
    await api.stop();
  }, 60_000);

  /** The keys of the identity messages a statement sends ('*' for a flush). */
  async function keysOf(sql: string, params: unknown[]): Promise<string[]> {
    received.length = 0;
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

  it('a small statement sends its distinct names', async () => {
    expect(await insert(3, 2, 'FEW#a')).toEqual(['FEW#a0', 'FEW#a1']);
  });

  it('5,000 rows of 5,000 names still send every name (in chunks)', async () => {
    const keys = await insert(5_000, 5_000, 'MANY#b');
    expect(keys).toHaveLength(5_000);
    expect(new Set(keys).size).toBe(5_000);
  });

  it('more than 5,000 rows flush, even when they carry few names (updates and deletes too)', async () => {
    expect(await insert(5_001, 2, 'FEW#c')).toEqual(['*']);
    expect(await keysOf(`UPDATE identities SET visibility = 'true' WHERE name LIKE 'FEW#c%'`, [])).toEqual([
      '*',
    ]);
    expect(await keysOf(`DELETE FROM identities WHERE name LIKE 'FEW#c%'`, [])).toEqual(['*']);
    expect(await keysOf(`DELETE FROM identities WHERE name LIKE 'FEW#a%'`, [])).toEqual(['FEW#a0', 'FEW#a1']);
  });
});
