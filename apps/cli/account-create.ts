import { accountsWithoutPrincipalCache, type CreatedAccount } from '../../libs/access/index.js';
import { createPool, Db } from '../../libs/store/db.js';

/** A one-off command on one connection: generous deadlines, so a slow first connection does not fail it. */
const CLI_DEADLINES = {
  connectTimeoutMs: 10_000,
  statementTimeoutMs: 30_000,
  idleInTransactionTimeoutMs: 30_000,
  keepAliveMs: 10_000,
};

/** `POST /accounts` without the HTTP: the same service of libs/access, on one connection. */
export async function createAccount(
  databaseUrl: string,
  input: { name: string; uuid?: string },
): Promise<CreatedAccount> {
  const db = new Db(createPool(databaseUrl, 1, CLI_DEADLINES));
  try {
    return await accountsWithoutPrincipalCache(db).create(input);
  } finally {
    await db.pool.end();
  }
}
