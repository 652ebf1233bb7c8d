import { Injectable } from '@nestjs/common';
import { Db, type Queryable } from '../../../../libs/store/db.js';

export interface AccountRow {
  uuid: string;
  name: string;
  created_ts: number;
  updated_ts: number;
}

const COLUMNS = 'uuid, name, created_ts, updated_ts';

@Injectable()
export class AccountsRepository {
  constructor(private readonly db: Db) {}

  /** Undefined when an account with this uuid exists already. */
  async insert(account: AccountRow, q: Queryable): Promise<AccountRow | undefined> {
    const rows = await q.query<AccountRow>(
      `INSERT INTO accounts (${COLUMNS}) VALUES ($1, $2, $3, $4) ON CONFLICT (uuid) DO NOTHING RETURNING ${COLUMNS}`,
      [account.uuid, account.name, account.created_ts, account.updated_ts],
    );
    return rows[0];
  }

  async find(uuid: string): Promise<AccountRow | undefined> {
    const rows = await this.db.query<AccountRow>(`SELECT ${COLUMNS} FROM accounts WHERE uuid = $1`, [uuid]);
    return rows[0];
  }

  async rename(uuid: string, name: string, updatedTs: number): Promise<AccountRow | undefined> {
    const rows = await this.db.query<AccountRow>(
      `UPDATE accounts SET name = $2, updated_ts = $3 WHERE uuid = $1 RETURNING ${COLUMNS}`,
      [uuid, name, updatedTs],
    );
    return rows[0];
  }
}
