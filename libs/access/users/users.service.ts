import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { assertMayHandOut, effectiveActions } from '../../domain/access/escalation-check.js';
import { badRequest, notFound } from '../../domain/errors.js';
import { normalizeUuid } from '../../domain/identity/uuid.js';
import type { Queryable } from '../../store/db.js';
import { nowSeconds } from '../../clock/clock.js';
import { HeldActionsRepository } from '../held-actions.repository.js';
import { assertFreeName, userDescription } from '../names.js';
import { type UserRow, UsersRepository } from './users.repository.js';

/** A new user; `description` is checked here (key pattern, size), so its errors name it. */
export interface CreateUserInput {
  name: string;
  /** The UUID of one of the account's roles. */
  role: string;
  description?: unknown;
  /** Trusted Twin's user activity-log configuration: stored and returned, no other effect. */
  activity?: Record<string, unknown> | null;
  status?: 'active' | 'disabled';
}

/** Attributes given replace, others stay; `description` replaces the whole object. */
export type UpdateUserInput = Partial<CreateUserInput>;

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
    private readonly users: UsersRepository,
    private readonly heldActions: HeldActionsRepository,
  ) {}

  list(account: string): Promise<UserRow[]> {
    return this.users.list(account);
  }

  async get(account: string, uuid: string): Promise<UserRow> {
    const row = await this.users.find(account, uuid);
    if (!row) throw notFound('User');
    return row;
  }

  /** `held`: the caller's effective actions; the user's role may not allow anything beyond them. */
  async create(account: string, held: ReadonlySet<string>, input: CreateUserInput): Promise<UserRow> {
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
    return row;
  }

  async update(
    account: string,
    held: ReadonlySet<string>,
    uuid: string,
    input: UpdateUserInput,
  ): Promise<UserRow> {
    if (input.name !== undefined) assertFreeName(input.name, 'User', 100);
    const description = input.description === undefined ? undefined : userDescription(input.description);
    const role = input.role === undefined ? undefined : roleUuid(input.role);
    return this.users.change(account, uuid, async (current, tx) => {
      if (role !== undefined && role !== current.role) {
        if (!(await this.users.roleBelongsTo(account, role, tx))) throw invalidRole();
        await this.assertMayGiveRole(account, held, role, tx);
      }
      return {
        name: input.name ?? current.name,
        role: role ?? current.role,
        description: description ?? current.description,
        status: input.status ?? current.status,
        activity: input.activity === undefined ? (current.activity ?? null) : input.activity,
        updated_ts: nowSeconds(),
      };
    });
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

  async delete(account: string, uuid: string): Promise<UserRow> {
    const row = await this.users.delete(account, uuid);
    if (!row) throw notFound('User');
    return row;
  }
}
