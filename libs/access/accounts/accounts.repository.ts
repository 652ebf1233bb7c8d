import { Injectable } from '@nestjs/common';
import { Db, type Queryable } from '../../store/db.js';
import { CommittedChanges } from '../../store/committed-changes.js';

export interface AccountRow {
  uuid: string;
  name: string;
  created_ts: number;
  updated_ts: number;
  resource_access_log?: Record<string, unknown> | null;
}

const COLUMNS = 'uuid, name, created_ts, updated_ts, resource_access_log';

/** The accounts table's one writer. whoami shows the account's name from the cached principal. */
@Injectable()
export class AccountsRepository {
  constructor(
    private readonly db: Db,
    private readonly changes: CommittedChanges,
  ) {}

  /** Undefined when an account with this uuid exists already. */
  async insert(account: AccountRow, q: Queryable): Promise<AccountRow | undefined> {
    const rows = await q.query<AccountRow>(
      `INSERT INTO accounts (uuid, name, created_ts, updated_ts) VALUES ($1, $2, $3, $4) ON CONFLICT (uuid) DO NOTHING RETURNING ${COLUMNS}`,
      [account.uuid, account.name, account.created_ts, account.updated_ts],
    );
    return rows[0];
  }

  async find(uuid: string): Promise<AccountRow | undefined> {
    const rows = await this.db.query<AccountRow>(`SELECT ${COLUMNS} FROM accounts WHERE uuid = $1`, [uuid]);
    return rows[0];
  }

  async update(
    uuid: string,
    changes: { name: string; resource_access_log: Record<string, unknown> | null },
    updatedTs: number,
  ): Promise<AccountRow | undefined> {
    const log = changes.resource_access_log === null ? null : JSON.stringify(changes.resource_access_log);
    const rows = await this.db.query<AccountRow>(
      `UPDATE accounts SET name = $2, resource_access_log = $3::jsonb, updated_ts = $4 WHERE uuid = $1 RETURNING ${COLUMNS}`,
      [uuid, changes.name, log, updatedTs],
    );
    this.changes.changedNow('accounts', [uuid]);
    return rows[0];
  }
}
