import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AuthService } from '../auth.service.js';
import { assertMayHandOut, effectiveActions } from '../../domain/access/escalation-check.js';
import { badRequest, notFound } from '../../domain/errors.js';
import { normalizeUuid } from '../../domain/identity/uuid.js';
import { Db, type Queryable } from '../../store/db.js';
import { HeldActionsRepository } from '../held-actions.repository.js';
import { assertFreeName, userDescription } from '../names.js';
import type { CreateUserInput, UpdateUserInput } from '../../../apps/api/access/users/user-body.js';
import { userView, type UserView } from '../../../apps/api/access/users/user-view.js';
import { type UserRow, UsersRepository } from './users.repository.js';
import { nowSeconds } from '../../clock/clock.js';

const invalidRole = () => badRequest('invalid_role', "Role is not one of this account's roles");

/** A role is named by the UUID of one of the caller's account's roles; anything else is the same 400. */
function roleUuid(value: string): string {
  const uuid = normalizeUuid(value);
  if (uuid === null) throw invalidRole();
  return uuid;
}

@Injectable()
export class UsersService {
  constructor(
    private readonly db: Db,
    private readonly users: UsersRepository,
    private readonly auth: AuthService,
    private readonly heldActions: HeldActionsRepository,
  ) {}

  async list(account: string): Promise<UserView[]> {
    return (await this.users.list(account)).map(userView);
  }

  async get(account: string, uuid: string): Promise<UserView> {
    const row = await this.users.find(account, uuid);
    if (!row) throw notFound('User');
    return userView(row);
  }

  /** `held`: the caller's effective actions; the user's role may not allow anything beyond them. */
  async create(account: string, held: ReadonlySet<string>, input: CreateUserInput): Promise<UserView> {
    assertFreeName(input.name, 'User', 100);
    const description = input.description === undefined ? {} : userDescription(input.description);
    const role = roleUuid(input.role);
    await this.assertMayGiveRole(account, held, role);
    const now = nowSeconds();
    const row = await this.users.insert({
      uuid: randomUUID(),
      account,
      name: input.name,
      role,
      description,
      activity: input.activity ?? null,
      status: input.status ?? 'active',
      created_ts: now,
      updated_ts: now,
    });
    if (!row) throw invalidRole();
    return userView(row);
  }

  async update(
    account: string,
    held: ReadonlySet<string>,
    uuid: string,
    input: UpdateUserInput,
  ): Promise<UserView> {
    if (input.name !== undefined) assertFreeName(input.name, 'User', 100);
    const description = input.description === undefined ? undefined : userDescription(input.description);
    const role = input.role === undefined ? undefined : roleUuid(input.role);
    const row = await this.db.transaction(async (tx): Promise<UserRow> => {
      const current = await this.users.find(account, uuid, tx, true);
      if (!current) throw notFound('User');
      if (
        role !== undefined &&
        role !== current.role &&
        !(await this.users.roleBelongsTo(account, role, tx))
      ) {
        throw invalidRole();
      }
      if (role !== undefined && role !== current.role) await this.assertMayGiveRole(account, held, role, tx);
      return this.users.update(
        account,
        uuid,
        {
          name: input.name ?? current.name,
          role: role ?? current.role,
          description: description ?? current.description,
          status: input.status ?? current.status,
          activity: input.activity === undefined ? (current.activity ?? null) : input.activity,
          updated_ts: nowSeconds(),
        },
        tx,
      );
    });
    // Status, role and description (USER in rules) all feed the cached principal.
    this.auth.invalidateAccount(account);
    return userView(row);
  }

  /** No privilege escalation: a role is given only by a caller holding every action it allows. */
  private async assertMayGiveRole(
    account: string,
    held: ReadonlySet<string>,
    role: string,
    q?: Queryable,
  ): Promise<void> {
    const statement = await this.heldActions.roleStatement(account, role, q);
    // A role of another account (or none) is left to the insert/update, which answers invalid_role.
    if (statement) assertMayHandOut(held, effectiveActions(statement), "the user's role");
  }

  async delete(account: string, uuid: string): Promise<UserView> {
    const row = await this.users.delete(account, uuid);
    if (!row) throw notFound('User');
    this.auth.invalidateAccount(account);
    return userView(row);
  }
}
