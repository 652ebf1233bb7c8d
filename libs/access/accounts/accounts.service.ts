import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { BUILT_IN_ROLES } from '../../domain/access/built-in-roles.js';
import { badRequest, notFound } from '../../domain/errors.js';
import { normalizeUuid } from '../../domain/identity/uuid.js';
import { Db } from '../../store/db.js';
import { nowSeconds } from '../../clock/clock.js';
import { assertFreeName } from '../names.js';
import { type RoleRow, RolesRepository } from '../roles/roles.repository.js';
import { SecretsService } from '../secrets/secrets.service.js';
import { type UserRow, UsersRepository } from '../users/users.repository.js';
import { type AccountRow, AccountsRepository } from './accounts.repository.js';

export interface CreateAccountInput {
  name: string;
  /** Mirror an upstream account's id; generated when absent. */
  uuid?: string;
}

export interface UpdateAccountInput {
  name?: string;
  /**
   * Trusted Twin's Resource Access Log configuration (a dictionary keyed by rule): stored and returned as given,
   * without effect. `null` clears it; absent leaves it.
   */
  resource_access_log?: Record<string, unknown> | null;
}

/** A new account with what it starts with: its `admin` user, holding the built-in `Admin` role, and its first secret. */
export interface CreatedAccount {
  account: AccountRow;
  user: UserRow;
  role: RoleRow;
  /** Shown once, stored only as a hash. */
  secret: string;
}

@Injectable()
export class AccountsService {
  constructor(
    private readonly db: Db,
    private readonly accounts: AccountsRepository,
    private readonly roles: RolesRepository,
    private readonly users: UsersRepository,
    private readonly secrets: SecretsService,
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
      return { account, user, role: admin, secret: issued.secret };
    });
  }

  async get(uuid: string): Promise<AccountRow> {
    const row = await this.accounts.find(uuid);
    if (!row) throw notFound('Account');
    return row;
  }

  async update(uuid: string, input: UpdateAccountInput): Promise<AccountRow> {
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
    return row;
  }
}
