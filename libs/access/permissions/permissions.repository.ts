import { Injectable } from '@nestjs/common';
import type { PagePosition } from '../page-token.js';
import { Db, type Queryable, type TransactionQueryable } from '../../store/db.js';
import { notFound } from '../../domain/errors.js';
import { AccountRows } from '../account-rows.js';
import { CommittedChanges } from '../../store/committed-changes.js';

export interface PermissionRow {
  id: string;
  account: string;
  name: string;
  operations: string[];
  is_immutable: boolean;
  is_archived: boolean;
  created_ts: number;
  updated_ts: number;
}

export interface AssignmentRow {
  id: string;
  permission_id: string;
  user_uuid: string;
  account: string;
  created_ts: number;
}

const PERMISSION = 'id, account, name, operations, is_immutable, is_archived, created_ts, updated_ts';
const ASSIGNMENT = 'id, permission_id, user_uuid, account, created_ts';

export type PermissionChanges = Pick<PermissionRow, 'name' | 'operations' | 'is_archived'>;

/**
 * The one writer of permissions and permission_assignments. A user's active permissions feed its cached principal,
 * so every change to an existing permission or assignment evicts the account's principals once committed.
 */
@Injectable()
export class PermissionsRepository extends AccountRows<PermissionRow> {
  constructor(db: Db, changes: CommittedChanges) {
    super(db, changes, {
      table: 'permissions',
      key: 'id',
      columns: PERMISSION,
      missing: () => notFound('Permission'),
    });
  }

  async insert(p: PermissionRow): Promise<PermissionRow> {
    const rows = await this.db.query<PermissionRow>(
      `INSERT INTO permissions (${PERMISSION}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${PERMISSION}`,
      [p.id, p.account, p.name, p.operations, p.is_immutable, p.is_archived, p.created_ts, p.updated_ts],
    );
    return rows[0];
  }

  /** Keyset page over permissions_account_idx (account, created_ts, id); one row more than asked tells if more follow. */
  async page(account: string, after: PagePosition | null, limit: number): Promise<PermissionRow[]> {
    return this.db.query<PermissionRow>(
      `SELECT ${PERMISSION} FROM permissions
        WHERE account = $1 AND ($2::float8 IS NULL OR (created_ts, id) > ($2::float8, $3::text))
        ORDER BY created_ts, id LIMIT $4`,
      [account, after?.ts ?? null, after?.id ?? null, limit],
    );
  }

  /**
   * Read-check-write of one permission under its row lock: `decide` sees the current row and answers the new
   * state, null to leave the row as it is, or throws; `404` when the account has no such permission.
   */
  change(
    account: string,
    id: string,
    decide: (current: PermissionRow) => PermissionChanges | null,
    updatedTs: number,
  ): Promise<PermissionRow> {
    return this.lockedWrite(account, id, async (current, tx) => {
      const next = decide(current);
      if (next === null) return current;
      const rows = await tx.query<PermissionRow>(
        `UPDATE permissions SET name = $2, operations = $3, is_archived = $4, updated_ts = $5 WHERE id = $1
         RETURNING ${PERMISSION}`,
        [id, next.name, next.operations, next.is_archived, updatedTs],
      );
      return rows[0];
    });
  }

  /**
   * Assigns the permission to a user, the permission locked so that an archive cannot commit between `check` (which
   * sees the permission and throws to refuse) and the insert. Undefined
   * when the user already holds it (unique (permission_id, user_uuid)).
   */
  assign(
    account: string,
    assignment: AssignmentRow,
    check: (permission: PermissionRow, tx: TransactionQueryable) => Promise<void>,
  ): Promise<AssignmentRow | undefined> {
    return this.lockedWrite(account, assignment.permission_id, async (permission, tx) => {
      await check(permission, tx);
      const rows = await tx.query<AssignmentRow>(
        `INSERT INTO permission_assignments (${ASSIGNMENT}) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (permission_id, user_uuid) DO NOTHING RETURNING ${ASSIGNMENT}`,
        [assignment.id, assignment.permission_id, assignment.user_uuid, account, assignment.created_ts],
      );
      return rows[0];
    });
  }

  async userBelongsTo(account: string, user: string, q: Queryable): Promise<boolean> {
    const rows = await q.query(`SELECT 1 FROM users WHERE uuid = $1 AND account = $2 FOR KEY SHARE`, [
      user,
      account,
    ]);
    return rows.length > 0;
  }

  /** Walks the unique (permission_id, user_uuid) index; a permission has few assignments. */
  async assignmentPage(
    account: string,
    permission: string,
    after: PagePosition | null,
    limit: number,
  ): Promise<AssignmentRow[]> {
    return this.db.query<AssignmentRow>(
      `SELECT ${ASSIGNMENT} FROM permission_assignments
        WHERE permission_id = $1 AND account = $2 AND ($3::float8 IS NULL OR (created_ts, id) > ($3::float8, $4::text))
        ORDER BY created_ts, id LIMIT $5`,
      [permission, account, after?.ts ?? null, after?.id ?? null, limit],
    );
  }

  async revoke(account: string, permission: string, assignment: string): Promise<AssignmentRow | undefined> {
    const rows = await this.write(
      account,
      this.db.query<AssignmentRow>(
        `DELETE FROM permission_assignments WHERE id = $1 AND permission_id = $2 AND account = $3 RETURNING ${ASSIGNMENT}`,
        [assignment, permission, account],
      ),
    );
    return rows[0];
  }
}
