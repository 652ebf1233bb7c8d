import { Injectable } from '@nestjs/common';
import { Db, type Queryable } from '../../store/db.js';

export interface RoleRow {
  uuid: string;
  account: string;
  name: string;
  effect: 'allow' | 'deny';
  actions: string[] | null;
  twin_rule: string | null;
  identity_rule: string | null;
  /** Stored and returned for Trusted Twin clients; never applied. Absent (null) for built-ins. */
  entry_rule: string | null;
  is_immutable: boolean;
  created_ts: number;
  updated_ts: number;
}

export type NewRole = Omit<RoleRow, 'entry_rule'> & { entry_rule?: string | null };
export type RoleChanges = Pick<
  RoleRow,
  'name' | 'effect' | 'actions' | 'twin_rule' | 'identity_rule' | 'entry_rule' | 'updated_ts'
>;

const COLUMNS =
  'uuid, account, name, effect, actions, twin_rule, identity_rule, is_immutable, created_ts, updated_ts, entry_rule';

@Injectable()
export class RolesRepository {
  constructor(private readonly db: Db) {}

  async insert(role: NewRole, q: Queryable = this.db): Promise<RoleRow> {
    const rows = await q.query<RoleRow>(
      `INSERT INTO roles (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING ${COLUMNS}`,
      [
        role.uuid,
        role.account,
        role.name,
        role.effect,
        role.actions,
        role.twin_rule,
        role.identity_rule,
        role.is_immutable,
        role.created_ts,
        role.updated_ts,
        role.entry_rule ?? null,
      ],
    );
    return rows[0];
  }

  /** Built-ins first (in creation order), then the account's own roles oldest first; roles_account_idx. */
  async list(account: string): Promise<RoleRow[]> {
    return this.db.query<RoleRow>(
      `SELECT ${COLUMNS} FROM roles WHERE account = $1 ORDER BY is_immutable DESC, created_ts, name, uuid`,
      [account],
    );
  }

  async find(
    account: string,
    uuid: string,
    q: Queryable = this.db,
    lock = false,
  ): Promise<RoleRow | undefined> {
    const rows = await q.query<RoleRow>(
      `SELECT ${COLUMNS} FROM roles WHERE uuid = $1 AND account = $2${lock ? ' FOR UPDATE' : ''}`,
      [uuid, account],
    );
    return rows[0];
  }

  async update(account: string, uuid: string, changes: RoleChanges, q: Queryable): Promise<RoleRow> {
    const rows = await q.query<RoleRow>(
      `UPDATE roles SET name = $3, effect = $4, actions = $5, twin_rule = $6, identity_rule = $7, updated_ts = $8, entry_rule = $9
        WHERE uuid = $1 AND account = $2 RETURNING ${COLUMNS}`,
      [
        uuid,
        account,
        changes.name,
        changes.effect,
        changes.actions,
        changes.twin_rule,
        changes.identity_rule,
        changes.updated_ts,
        changes.entry_rule,
      ],
    );
    return rows[0];
  }

  async isHeld(uuid: string, q: Queryable): Promise<boolean> {
    const rows = await q.query(`SELECT 1 FROM users WHERE role = $1 LIMIT 1`, [uuid]);
    return rows.length > 0;
  }

  async delete(account: string, uuid: string, q: Queryable): Promise<void> {
    await q.query(`DELETE FROM roles WHERE uuid = $1 AND account = $2`, [uuid, account]);
  }
}
