import { ImportDb } from '../libs/imports/import-db.js';
import { createPool, deadlinesFrom } from '../libs/store/db.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { isolatedConfig } from './support/test-env.js';

/**
 * The imports' own pool loses PostgreSQL between two statements of a staging transaction. The transaction must fail
 * as `database_unavailable` and the process must live on: a checked-out pg client whose server goes away emits
 * 'error', and with nobody listening that is an uncaught exception (the imports' first transaction helper had no
 * listener; it now shares Db's).
 */
describe('import staging transaction when PostgreSQL goes away mid-transaction', () => {
  const proxy = new TcpProxy('127.0.0.1', 5432);
  let db: ImportDb;

  beforeAll(async () => {
    const port = await proxy.start();
    const config = isolatedConfig();
    const url = new URL('postgres://postgres@127.0.0.1/postgres');
    url.port = String(port);
    db = new ImportDb(createPool(url.toString(), 1, deadlinesFrom(config, 'worker')));
  });
  afterAll(async () => {
    await db.pool.end().catch(() => undefined);
    await proxy.stop();
  });

  it('rejects with database_unavailable and raises no uncaught error', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    try {
      const outcome = db.transaction(async (tx) => {
        await tx.query('SELECT 1');
        // The server vanishes while the transaction is open and idle on this side.
        await proxy.stop();
        await new Promise((r) => setTimeout(r, 300));
        await tx.query('SELECT 2');
      });
      await expect(outcome).rejects.toMatchObject({ subcode: 'database_unavailable' });
      await new Promise((r) => setTimeout(r, 100));
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });
});
