import type { QueryResultRow } from 'pg';
import type { Db, Queryable, TransactionQueryable } from '../store/db.js';
import type { CommittedChanges } from '../store/committed-changes.js';

/** Where an account's rows of one access table live: the table, the column naming a row, the columns read. */
export interface AccountTable {
  table: string;
  key: string;
  columns: string;
  /** The error a write to a row the account does not have answers (a 404 naming the resource). */
  missing: () => Error;
}

/**
 * The shape the access tables share (roles, users, permissions): rows of one account, found by their key within
 * it — another account's row reads as missing — and changed by read-check-write under the row's lock, after which
 * the account's cached principals are evicted. The repositories of those tables extend it, so the lookup, the
 * lock and the eviction are written once.
 */
export class AccountRows<Row extends QueryResultRow> {
  constructor(
    protected readonly db: Db,
    private readonly changes: CommittedChanges,
    private readonly at: AccountTable,
  ) {}

  async find(account: string, id: string, q: Queryable = this.db, lock = false): Promise<Row | undefined> {
    const { table, key, columns } = this.at;
    const rows = await q.query<Row>(
      `SELECT ${columns} FROM ${table} WHERE ${key} = $1 AND account = $2${lock ? ' FOR UPDATE' : ''}`,
      [id, account],
    );
    return rows[0];
  }

  /**
   * Runs `work` in one transaction on the row locked FOR UPDATE (`missing` when the account has no such row), then
   * evicts the account's cached principals: after the commit, so that no request caches the old state again in
   * between, and before the caller answers, so that the writing instance's next request sees the change.
   */
  async lockedWrite<T>(
    account: string,
    id: string,
    work: (current: Row, tx: TransactionQueryable) => Promise<T>,
  ): Promise<T> {
    return this.db.transaction(async (tx) => {
      const current = await this.find(account, id, tx, true);
      if (current === undefined) throw this.at.missing();
      const result = await work(current, tx);
      this.changes.changed(tx, 'accounts', [account]);
      return result;
    });
  }

  /** A write of one statement outside a transaction, then the eviction, in the same order as `lockedWrite`. */
  async write<T>(account: string, statement: Promise<T>): Promise<T> {
    const result = await statement;
    this.changes.changedNow('accounts', [account]);
    return result;
  }
}
