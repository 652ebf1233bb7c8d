import { Injectable } from '@nestjs/common';
import { Db, type Queryable, type TransactionQueryable } from '../../store/db.js';
import { notFound } from '../../domain/errors.js';
import { AccountRows } from '../account-rows.js';
import { CommittedChanges } from '../../store/committed-changes.js';

export interface UserRow {
  uuid: string;
  account: string;
  name: string;
  role: string;
  description: Record<string, unknown>;
  activity?: Record<string, unknown> | null;
  status: 'active' | 'disabled';
  created_ts: number;
  updated_ts: number;
}

const COLUMNS = 'uuid, account, name, role, description, status, created_ts, updated_ts, activity';

export type UserChanges = Pick<
  UserRow,
  'name' | 'role' | 'description' | 'status' | 'updated_ts' | 'activity'
>;

/** The users table's one writer. Status, role and description (USER in rules) all feed the cached principal. */
@Injectable()
export class UsersRepository extends AccountRows<UserRow> {
  constructor(db: Db, changes: CommittedChanges) {
    super(db, changes, { table: 'users', key: 'uuid', columns: COLUMNS, missing: () => notFound('User') });
  }

  /**
   * Inserts only when the role belongs to the same account (the INSERT … SELECT is the check, so no race with a
   * role deletion: the foreign key locks the role row). Undefined when it does not.
   */
  async insert(user: UserRow, q: Queryable = this.db): Promise<UserRow | undefined> {
    const rows = await q.query<UserRow>(
      `INSERT INTO users (${COLUMNS})
       SELECT $1, $2, $3, r.uuid, $5, $6, $7, $8, $9::jsonb FROM roles r WHERE r.uuid = $4 AND r.account = $2
       RETURNING ${COLUMNS}`,
      [
        user.uuid,
        user.account,
        user.name,
        user.role,
        JSON.stringify(user.description),
        user.status,
        user.created_ts,
        user.updated_ts,
        user.activity == null ? null : JSON.stringify(user.activity),
      ],
    );
    return rows[0];
  }

  /** users_account_idx. */
  async list(account: string): Promise<UserRow[]> {
    return this.db.query<UserRow>(
      `SELECT ${COLUMNS} FROM users WHERE account = $1 ORDER BY created_ts, uuid`,
      [account],
    );
  }

  /**
   * Read-check-write of one user under its row lock: `decide` sees the current row and answers the new state,
   * or throws; `404` when the account has no such user. The account's cached principals are evicted once
   * committed.
   */
  change(
    account: string,
    uuid: string,
    decide: (current: UserRow, tx: TransactionQueryable) => Promise<UserChanges>,
  ): Promise<UserRow> {
    return this.lockedWrite(account, uuid, async (current, tx) =>
      this.update(account, uuid, await decide(current, tx), tx),
    );
  }

  async roleBelongsTo(account: string, role: string, q: Queryable): Promise<boolean> {
    const rows = await q.query(`SELECT 1 FROM roles WHERE uuid = $1 AND account = $2 FOR KEY SHARE`, [
      role,
      account,
    ]);
    return rows.length > 0;
  }

  private async update(account: string, uuid: string, changes: UserChanges, q: Queryable): Promise<UserRow> {
    const rows = await q.query<UserRow>(
      `UPDATE users SET name = $3, role = $4, description = $5, status = $6, updated_ts = $7, activity = $8::jsonb
        WHERE uuid = $1 AND account = $2 RETURNING ${COLUMNS}`,
      [
        uuid,
        account,
        changes.name,
        changes.role,
        JSON.stringify(changes.description),
        changes.status,
        changes.updated_ts,
        changes.activity == null ? null : JSON.stringify(changes.activity),
      ],
    );
    return rows[0];
  }

  /** Secrets, the pending PIN and permission assignments go with the user (ON DELETE CASCADE). */
  async delete(account: string, uuid: string): Promise<UserRow | undefined> {
    const rows = await this.write(
      account,
      this.db.query<UserRow>(`DELETE FROM users WHERE uuid = $1 AND account = $2 RETURNING ${COLUMNS}`, [
        uuid,
        account,
      ]),
    );
    return rows[0];
  }
}
