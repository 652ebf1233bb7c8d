import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { assertMayHandOut, effectiveActions, newlyHandedOut } from '../../domain/access/escalation-check.js';
import { badRequest, notFound } from '../../domain/errors.js';
import { nowSeconds } from '../../clock/clock.js';
import { assertRoleName, assertRuleCompiles, normalizeActions } from './role-validation.js';
import { type RoleRow, RolesRepository } from './roles.repository.js';

/** A statement as written: `actions` null or absent is the empty list. */
export interface StatementInput {
  effect: 'allow' | 'deny';
  actions?: string[] | null;
}

/** Trusted Twin's rule over ledger entries is compiled and stored, never applied (Twindex keeps no ledgers). */
export interface RoleRulesInput {
  twin_rule?: string | null;
  identity_rule?: string | null;
  entry_rule?: string | null;
}

export interface CreateRoleInput {
  name: string;
  statement?: StatementInput;
  rules?: RoleRulesInput;
}

/** Attributes given replace, others stay; inside `rules`, each rule given replaces that rule only. */
export type UpdateRoleInput = Partial<CreateRoleInput>;

// PostgreSQL foreign_key_violation: a user was given the role between our check and the delete.
const FOREIGN_KEY_VIOLATION = '23503';

@Injectable()
export class RolesService {
  constructor(private readonly roles: RolesRepository) {}

  list(account: string): Promise<RoleRow[]> {
    return this.roles.list(account);
  }

  async get(account: string, uuid: string): Promise<RoleRow> {
    const row = await this.roles.find(account, uuid);
    if (!row) throw notFound('Role');
    return row;
  }

  /** `held`: the caller's effective actions; a role may not allow anything beyond them (no escalation). */
  async create(account: string, held: ReadonlySet<string>, input: CreateRoleInput): Promise<RoleRow> {
    assertRoleName(input.name);
    // docs/access.md "Roles": a role created without a statement allows every action, as on Trusted Twin.
    const statement = input.statement ?? { effect: 'deny' as const, actions: null };
    const actions = normalizeActions(statement.actions);
    assertMayHandOut(held, effectiveActions({ effect: statement.effect, actions }), 'this role');
    const twinRule = input.rules?.twin_rule ?? null;
    const identityRule = input.rules?.identity_rule ?? null;
    assertRuleCompiles(twinRule, 'twin_rule');
    assertRuleCompiles(identityRule, 'identity_rule');
    const entryRule = input.rules?.entry_rule ?? null;
    assertRuleCompiles(entryRule, 'entry_rule');
    const now = nowSeconds();
    return this.roles.insert({
      uuid: randomUUID(),
      account,
      name: input.name,
      effect: statement.effect,
      actions,
      twin_rule: twinRule,
      identity_rule: identityRule,
      entry_rule: entryRule,
      is_immutable: false,
      created_ts: now,
      updated_ts: now,
    });
  }

  async update(
    account: string,
    held: ReadonlySet<string>,
    uuid: string,
    input: UpdateRoleInput,
  ): Promise<RoleRow> {
    if (input.name !== undefined) assertRoleName(input.name);
    const actions = input.statement ? normalizeActions(input.statement.actions) : undefined;
    assertRuleCompiles(input.rules?.twin_rule, 'twin_rule');
    assertRuleCompiles(input.rules?.identity_rule, 'identity_rule');
    assertRuleCompiles(input.rules?.entry_rule, 'entry_rule');
    return this.roles.change(account, uuid, (current) => {
      if (current.is_immutable) throw immutable(current.name);
      if (input.statement) {
        // Only what the new statement adds is handed out: keeping a role's existing actions gives nobody more.
        const before = effectiveActions({ effect: current.effect, actions: current.actions });
        const after = effectiveActions({ effect: input.statement.effect, actions: actions ?? null });
        assertMayHandOut(held, newlyHandedOut(before, after), 'this role');
      }
      return {
        name: input.name ?? current.name,
        effect: input.statement?.effect ?? current.effect,
        actions: actions === undefined ? current.actions : actions,
        twin_rule: input.rules?.twin_rule === undefined ? current.twin_rule : input.rules.twin_rule,
        identity_rule:
          input.rules?.identity_rule === undefined ? current.identity_rule : input.rules.identity_rule,
        entry_rule: input.rules?.entry_rule === undefined ? current.entry_rule : input.rules.entry_rule,
        updated_ts: nowSeconds(),
      };
    });
  }

  async delete(account: string, uuid: string): Promise<RoleRow> {
    try {
      return await this.roles.delete(account, uuid, (current, held) => {
        if (current.is_immutable) throw immutable(current.name);
        if (held) throw inUse();
        return current;
      });
    } catch (e) {
      if ((e as { code?: string }).code === FOREIGN_KEY_VIOLATION) throw inUse();
      throw e;
    }
  }
}

const immutable = (name: string) =>
  badRequest('immutable', `Built-in role '${name}' cannot be changed or deleted`);
const inUse = () =>
  badRequest('in_use', 'Role is still held by at least one user; give them another role first');
