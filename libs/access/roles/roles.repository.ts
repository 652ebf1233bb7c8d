import { Injectable } from '@nestjs/common';
import { Db, type Queryable, type TransactionQueryable } from '../../store/db.js';
import { notFound } from '../../domain/errors.js';
import { AccountRows } from '../account-rows.js';
import { CommittedChanges } from '../../store/committed-changes.js';

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

/** The roles table's one writer. A role's statement and rules feed the cached principal of every holder. */
@Injectable()
export class RolesRepository extends AccountRows<RoleRow> {
  constructor(db: Db, changes: CommittedChanges) {
    super(db, changes, { table: 'roles', key: 'uuid', columns: COLUMNS, missing: () => notFound('Role') });
  }

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

  /**
   * Read-check-write of one role under its row lock: `decide` sees the current row and answers the new state,
   * or throws; `404` when the account has no such role. The account's cached principals are evicted once
   * committed: every holder's allowed actions and rules may have changed.
   */
  change(account: string, uuid: string, decide: (current: RoleRow) => RoleChanges): Promise<RoleRow> {
    return this.lockedWrite(account, uuid, (current, tx) => this.update(account, uuid, decide(current), tx));
  }

  /**
   * Deletes the role under its row lock once `check` (given the current row and whether a user holds it) lets
   * it; answers the deleted row. A role nobody holds is in no cached principal.
   */
  delete(
    account: string,
    uuid: string,
    check: (current: RoleRow, held: boolean) => RoleRow,
  ): Promise<RoleRow> {
    return this.lockedWrite(account, uuid, async (current, tx) => {
      const deleted = check(current, await this.isHeld(uuid, tx));
      await tx.query(`DELETE FROM roles WHERE uuid = $1 AND account = $2`, [uuid, account]);
      return deleted;
    });
  }

  private async update(account: string, uuid: string, changes: RoleChanges, q: Queryable): Promise<RoleRow> {
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

  private async isHeld(uuid: string, q: TransactionQueryable): Promise<boolean> {
    const rows = await q.query(`SELECT 1 FROM users WHERE role = $1 LIMIT 1`, [uuid]);
    return rows.length > 0;
  }
}
