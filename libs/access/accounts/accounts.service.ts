import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AuthService } from '../auth.service.js';
import { BUILT_IN_ROLES } from '../../domain/access/built-in-roles.js';
import { badRequest, notFound } from '../../domain/errors.js';
import { normalizeUuid } from '../../domain/identity/uuid.js';
import { Db } from '../../store/db.js';
import { assertFreeName } from '../names.js';
import { roleView, type RoleView } from '../../../apps/api/access/roles/role-view.js';
import { type RoleRow, RolesRepository } from '../roles/roles.repository.js';
import { SecretsService } from '../secrets/secrets.service.js';
import { userView, type UserView } from '../../../apps/api/access/users/user-view.js';
import { UsersRepository } from '../users/users.repository.js';
import type {
  CreateAccountInput,
  UpdateAccountInput,
} from '../../../apps/api/access/accounts/account-body.js';
import { type AccountRow, AccountsRepository } from './accounts.repository.js';
import { nowSeconds } from '../../clock/clock.js';

export interface AccountView {
  uuid: string;
  name: string;
  /** Stored for Trusted Twin clients, no other effect; `{}` when none is set, so its type never changes. */
  resource_access_log: Record<string, unknown>;
  created_ts: number;
  updated_ts: number;
}

export interface CreatedAccount {
  account: AccountView;
  user: UserView;
  role: RoleView;
  /** The admin's first secret: shown here once, stored only as a hash. */
  secret: string;
}

const accountView = (row: AccountRow): AccountView => ({
  uuid: row.uuid,
  name: row.name,
  resource_access_log: row.resource_access_log ?? {},
  created_ts: row.created_ts,
  updated_ts: row.updated_ts,
});

@Injectable()
export class AccountsService {
  constructor(
    private readonly db: Db,
    private readonly accounts: AccountsRepository,
    private readonly roles: RolesRepository,
    private readonly users: UsersRepository,
    private readonly secrets: SecretsService,
    private readonly auth: AuthService,
  ) {}

  /** The account, its built-in roles, the `admin` user with `Admin` and that user's first secret: all or nothing. */
  async create(input: CreateAccountInput): Promise<CreatedAccount> {
    assertFreeName(input.name, 'Account', 100);
    const uuid = input.uuid === undefined ? randomUUID() : normalizeUuid(input.uuid);
    if (uuid === null) throw badRequest('invalid_uuid', 'uuid must be a UUID');
    const now = nowSeconds();
    return this.db.transaction(async (tx) => {
      const account = await this.accounts.insert(
        { uuid, name: input.name, created_ts: now, updated_ts: now },
        tx,
      );
      if (!account) throw badRequest('already_exists', `Account ${uuid} already exists`);
      const roles: RoleRow[] = [];
      for (const builtIn of BUILT_IN_ROLES) {
        roles.push(
          await this.roles.insert(
            {
              uuid: randomUUID(),
              account: uuid,
              name: builtIn.name,
              effect: builtIn.statement.effect,
              actions: [...builtIn.statement.actions],
              twin_rule: builtIn.rules.twin_rule,
              identity_rule: builtIn.rules.identity_rule,
              is_immutable: true,
              created_ts: now,
              updated_ts: now,
            },
            tx,
          ),
        );
      }
      const admin = roles.find((r) => r.name === 'Admin');
      if (!admin) throw new Error('BUILT_IN_ROLES has no Admin');
      const user = await this.users.insert(
        {
          uuid: randomUUID(),
          account: uuid,
          name: 'admin',
          role: admin.uuid,
          description: {},
          status: 'active',
          created_ts: now,
          updated_ts: now,
        },
        tx,
      );
      if (!user) throw new Error('admin user was not created');
      const issued = await this.secrets.issue(uuid, user.uuid, null, tx);
      return {
        account: accountView(account),
        user: userView(user),
        role: roleView(admin),
        secret: issued.secret,
      };
    });
  }

  async get(uuid: string): Promise<AccountView> {
    const row = await this.accounts.find(uuid);
    if (!row) throw notFound('Account');
    return accountView(row);
  }

  async update(uuid: string, input: UpdateAccountInput): Promise<AccountView> {
    if (input.name === undefined && input.resource_access_log === undefined) return this.get(uuid);
    if (input.name !== undefined) assertFreeName(input.name, 'Account', 100);
    const current = await this.accounts.find(uuid);
    if (!current) throw notFound('Account');
    const row = await this.accounts.update(
      uuid,
      {
        name: input.name ?? current.name,
        resource_access_log:
          input.resource_access_log === undefined
            ? (current.resource_access_log ?? null)
            : input.resource_access_log,
      },
      nowSeconds(),
    );
    if (!row) throw notFound('Account');
    // whoami shows the account's name from the cached principal.
    this.auth.invalidateAccount(uuid);
    return accountView(row);
  }
}
