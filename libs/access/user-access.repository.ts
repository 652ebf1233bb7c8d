import { Injectable } from '@nestjs/common';
import type { HeldPermission, Statement } from '../domain/access/permission-evaluation.js';
import { Db } from '../store/db.js';

/** Everything that decides what one user may do and see: its role (statement, rules) and active permissions. */
export interface UserAccess {
  account: string;
  user: string;
  userName: string;
  status: 'active' | 'disabled';
  /** USER in rules. */
  userDescription: Record<string, unknown>;
  role: string;
  roleName: string;
  /** A built-in role (Admin, Operator, ReadOnly): immutable. */
  builtIn: boolean;
  statement: Statement;
  twinRule: string | null;
  identityRule: string | null;
  /** Active (not archived) permissions assigned to the user, by id. */
  permissions: HeldPermission[];
}

interface Row {
  user_name: string;
  status: 'active' | 'disabled';
  description: Record<string, unknown> | null;
  role: string;
  role_name: string;
  is_immutable: boolean;
  effect: 'allow' | 'deny';
  actions: string[] | null;
  twin_rule: string | null;
  identity_rule: string | null;
  permissions: HeldPermission[];
}

/**
 * Reads a user's access for POST /resolve/explain: by primary key, scoped to the caller's account (another account's
 * user reads as missing), with its active permissions through permission_assignments_user_idx. Off the hot path:
 * one query per explain.
 */
@Injectable()
export class UserAccessRepository {
  constructor(private readonly db: Db) {}

  async find(account: string, user: string): Promise<UserAccess | undefined> {
    const rows = await this.db.query<Row>(
      `SELECT u.name AS user_name, u.status, u.description, r.uuid AS role, r.name AS role_name, r.is_immutable,
              r.effect, r.actions, r.twin_rule, r.identity_rule,
              COALESCE((SELECT json_agg(json_build_object('id', p.id, 'operations', p.operations) ORDER BY p.id)
                          FROM permission_assignments pa JOIN permissions p ON p.id = pa.permission_id
                         WHERE pa.user_uuid = u.uuid AND NOT p.is_archived), '[]') AS permissions
         FROM users u JOIN roles r ON r.uuid = u.role
        WHERE u.uuid = $1 AND u.account = $2`,
      [user, account],
    );
    const row = rows[0];
    if (row === undefined) return undefined;
    return {
      account,
      user,
      userName: row.user_name,
      status: row.status,
      userDescription: row.description ?? {},
      role: row.role,
      roleName: row.role_name,
      builtIn: row.is_immutable,
      statement: { effect: row.effect, actions: row.actions },
      twinRule: row.twin_rule,
      identityRule: row.identity_rule,
      permissions: row.permissions,
    };
  }
}
