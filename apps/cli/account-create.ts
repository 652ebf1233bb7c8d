import type { AuthService } from '../../libs/access/auth.service.js';
import { createPool, Db } from '../../libs/store/db.js';
import { AccountsRepository } from '../../libs/access/accounts/accounts.repository.js';
import { AccountsService, type CreatedAccount } from '../../libs/access/accounts/accounts.service.js';
import { RolesRepository } from '../../libs/access/roles/roles.repository.js';
import { SecretsRepository } from '../../libs/access/secrets/secrets.repository.js';
import { SecretsService } from '../../libs/access/secrets/secrets.service.js';
import { UsersRepository } from '../../libs/access/users/users.repository.js';
import { HeldActionsRepository } from '../../libs/access/held-actions.repository.js';

/** A one-off command on one connection: generous deadlines, so a slow first connection does not fail it. */
const CLI_DEADLINES = {
  connectTimeoutMs: 10_000,
  statementTimeoutMs: 30_000,
  idleInTransactionTimeoutMs: 30_000,
  keepAliveMs: 10_000,
};

/**
 * `POST /accounts` without the HTTP: the same service, built by hand on one connection. Creating an account
 * touches no cached principal, so the principal cache (AuthService, which needs the change feed) is not built.
 */
export async function createAccount(
  databaseUrl: string,
  input: { name: string; uuid?: string },
): Promise<CreatedAccount> {
  const db = new Db(createPool(databaseUrl, 1, CLI_DEADLINES));
  try {
    const users = new UsersRepository(db);
    const noPrincipalCache = {} as AuthService;
    const secrets = new SecretsService(
      db,
      new SecretsRepository(db),
      users,
      noPrincipalCache,
      new HeldActionsRepository(db),
    );
    const accounts = new AccountsService(
      db,
      new AccountsRepository(db),
      new RolesRepository(db),
      users,
      secrets,
      noPrincipalCache,
    );
    return await accounts.create(input);
  } finally {
    await db.pool.end();
  }
}

/** How many accounts exist (npm start says how to create the first). */
export async function countAccounts(databaseUrl: string): Promise<number> {
  const db = new Db(createPool(databaseUrl, 1, CLI_DEADLINES));
  try {
    const [row] = await db.query<{ n: string }>('SELECT count(*) AS n FROM accounts');
    return Number(row.n);
  } finally {
    await db.pool.end();
  }
}
