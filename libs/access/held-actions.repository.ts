import { Injectable } from '@nestjs/common';
import type { Statement } from '../domain/access/permission-evaluation.js';
import { Db, type Queryable } from '../store/db.js';

/** What a user may do: its role's statement and the operations of its active (not archived) permissions. */
export interface UserHeldActions {
  statement: Statement;
  permissionOperations: string[];
}

/**
 * Reads what a write would hand out, for the escalation check (libs/domain/access/escalation-check.ts): a role's
 * statement, or everything a user holds. Both are scoped to the caller's account; another account's role or user
 * reads as missing.
 */
@Injectable()
export class HeldActionsRepository {
  constructor(private readonly db: Db) {}

  async roleStatement(account: string, role: string, q: Queryable = this.db): Promise<Statement | undefined> {
    const rows = await q.query<{ effect: 'allow' | 'deny'; actions: string[] | null }>(
      `SELECT effect, actions FROM roles WHERE uuid = $1 AND account = $2`,
      [role, account],
    );
    return rows[0] ? { effect: rows[0].effect, actions: rows[0].actions } : undefined;
  }

  async heldByUser(
    account: string,
    user: string,
    q: Queryable = this.db,
  ): Promise<UserHeldActions | undefined> {
    const rows = await q.query<{
      effect: 'allow' | 'deny';
      actions: string[] | null;
      permission_operations: string[];
    }>(
      `SELECT r.effect, r.actions,
              COALESCE(ARRAY(SELECT DISTINCT unnest(p.operations)
                               FROM permission_assignments pa JOIN permissions p ON p.id = pa.permission_id
                              WHERE pa.user_uuid = u.uuid AND NOT p.is_archived), '{}') AS permission_operations
         FROM users u JOIN roles r ON r.uuid = u.role
        WHERE u.uuid = $1 AND u.account = $2`,
      [user, account],
    );
    const row = rows[0];
    if (!row) return undefined;
    return {
      statement: { effect: row.effect, actions: row.actions },
      permissionOperations: row.permission_operations,
    };
  }
}
