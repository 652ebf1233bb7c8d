import type { UserRow } from '../../../../libs/access/users/users.repository.js';

/** The user resource: `description` is what rules see as USER. */
export interface UserView {
  uuid: string;
  account: string;
  name: string;
  role: string;
  description: Record<string, unknown>;
  activity: Record<string, unknown> | null;
  status: 'active' | 'disabled';
  created_ts: number;
  updated_ts: number;
}

export function userView(row: UserRow): UserView {
  return {
    uuid: row.uuid,
    account: row.account,
    name: row.name,
    role: row.role,
    description: row.description,
    activity: row.activity ?? null,
    status: row.status,
    created_ts: row.created_ts,
    updated_ts: row.updated_ts,
  };
}
