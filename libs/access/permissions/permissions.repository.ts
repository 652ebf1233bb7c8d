import { Injectable } from '@nestjs/common';
import type { PagePosition } from '../page-token.js';
import { Db, type Queryable } from '../../store/db.js';

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

@Injectable()
export class PermissionsRepository {
  constructor(private readonly db: Db) {}

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

  async find(
    account: string,
    id: string,
    q: Queryable = this.db,
    lock = false,
  ): Promise<PermissionRow | undefined> {
    const rows = await q.query<PermissionRow>(
      `SELECT ${PERMISSION} FROM permissions WHERE id = $1 AND account = $2${lock ? ' FOR UPDATE' : ''}`,
      [id, account],
    );
    return rows[0];
  }

  async update(
    id: string,
    changes: Pick<PermissionRow, 'name' | 'operations' | 'is_archived' | 'updated_ts'>,
    q: Queryable,
  ): Promise<PermissionRow> {
    const rows = await q.query<PermissionRow>(
      `UPDATE permissions SET name = $2, operations = $3, is_archived = $4, updated_ts = $5 WHERE id = $1
       RETURNING ${PERMISSION}`,
      [id, changes.name, changes.operations, changes.is_archived, changes.updated_ts],
    );
    return rows[0];
  }

  async userBelongsTo(account: string, user: string, q: Queryable): Promise<boolean> {
    const rows = await q.query(`SELECT 1 FROM users WHERE uuid = $1 AND account = $2 FOR KEY SHARE`, [
      user,
      account,
    ]);
    return rows.length > 0;
  }

  /** Undefined when the user already holds the permission (unique (permission_id, user_uuid)). */
  async assign(a: AssignmentRow, q: Queryable): Promise<AssignmentRow | undefined> {
    const rows = await q.query<AssignmentRow>(
      `INSERT INTO permission_assignments (${ASSIGNMENT}) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (permission_id, user_uuid) DO NOTHING RETURNING ${ASSIGNMENT}`,
      [a.id, a.permission_id, a.user_uuid, a.account, a.created_ts],
    );
    return rows[0];
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
    const rows = await this.db.query<AssignmentRow>(
      `DELETE FROM permission_assignments WHERE id = $1 AND permission_id = $2 AND account = $3 RETURNING ${ASSIGNMENT}`,
      [assignment, permission, account],
    );
    return rows[0];
  }
}
