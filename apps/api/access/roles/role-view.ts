import type { RoleRow } from '../../../../libs/access/roles/roles.repository.js';

/** The role resource of docs/access.md "Roles". */
export interface RoleView {
  uuid: string;
  account: string;
  name: string;
  statement: { effect: 'allow' | 'deny'; actions: string[] | null };
  rules: { twin_rule: string | null; entry_rule: string | null; identity_rule: string | null };
  is_immutable: boolean;
  created_ts: number;
  updated_ts: number;
}

export function roleView(row: RoleRow): RoleView {
  return {
    uuid: row.uuid,
    account: row.account,
    name: row.name,
    statement: { effect: row.effect, actions: row.actions },
    rules: { twin_rule: row.twin_rule, entry_rule: row.entry_rule, identity_rule: row.identity_rule },
    is_immutable: row.is_immutable,
    created_ts: row.created_ts,
    updated_ts: row.updated_ts,
  };
}
