import type { AccountRow } from '../../../../libs/access/accounts/accounts.repository.js';
import type { CreatedAccount } from '../../../../libs/access/accounts/accounts.service.js';
import { roleView, type RoleView } from '../roles/role-view.js';
import { userView, type UserView } from '../users/user-view.js';

export interface AccountView {
  uuid: string;
  name: string;
  /** Stored for Trusted Twin clients, no other effect; `{}` when none is set, so its type never changes. */
  resource_access_log: Record<string, unknown>;
  created_ts: number;
  updated_ts: number;
}

/** `POST /accounts`: the account, its admin user and role, and the admin's first secret (shown this once). */
export interface CreatedAccountView {
  account: AccountView;
  user: UserView;
  role: RoleView;
  secret: string;
}

export function accountView(row: AccountRow): AccountView {
  return {
    uuid: row.uuid,
    name: row.name,
    resource_access_log: row.resource_access_log ?? {},
    created_ts: row.created_ts,
    updated_ts: row.updated_ts,
  };
}

export function createdAccountView(created: CreatedAccount): CreatedAccountView {
  return {
    account: accountView(created.account),
    user: userView(created.user),
    role: roleView(created.role),
    secret: created.secret,
  };
}
