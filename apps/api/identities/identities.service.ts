import { withRequestRuleBudget } from '../../../libs/domain/visibility/rule-variables.js';
import { Injectable } from '@nestjs/common';
import type { Caller, IdentityRow, TwinFacts } from '../../../libs/domain/model.js';
import { badRequest, notFound } from '../../../libs/domain/errors.js';
import {
  type IdentityListFilters,
  listIdentities,
} from '../../../libs/domain/visibility/identity-filters.js';
import { canSeeIdentity, canSeeTwin } from '../../../libs/domain/visibility/visibility.js';
import { type AuditActor, AuditLogRepository } from '../../../libs/store/audit-log.repository.js';
import { Db } from '../../../libs/store/db.js';
import {
  type IdentityChanges,
  type IdentityKey,
  IdentityRepository,
  type NewIdentity,
  type StoredIdentity,
} from '../../../libs/store/identity.repository.js';
import { lockTwinKey, TwinRepository } from '../../../libs/store/twin.repository.js';
import { storedRule } from '../../../libs/domain/rules/index.js';
import { nowSeconds } from '../../../libs/clock/clock.js';

export interface ListedStoredIdentity {
  identity: StoredIdentity;
  /** Owned by the caller's account: the entry shows `visibility`. */
  personal: boolean;
}

/** Audit target of an identity: the path that names it under its twin. */
const identityTarget = (twin: string, name: string) => `${twin}/${name}`;

/**
 * Identities on twins. Every endpoint first requires that the caller may see the twin (404 otherwise); single
 * identities are the caller's own, subject to the role identity_rule, expired ones included (the owner manages them).
 * This process's cache forgets the written names before a write is answered: IdentityRepository reports them
 * (CommittedChanges).
 */
@Injectable()
export class IdentitiesService {
  constructor(
    private readonly db: Db,
    private readonly twins: TwinRepository,
    private readonly identities: IdentityRepository,
    private readonly audit: AuditLogRepository,
  ) {}

  /** All or none: a name the caller's account already holds on the twin fails the whole batch. */
  async create(
    caller: Caller,
    actor: AuditActor,
    twin: string,
    entries: readonly NewIdentity[],
  ): Promise<StoredIdentity[]> {
    await this.visibleTwin(caller, twin);
    const nowTs = nowSeconds();
    return this.db.transaction(async (tx) => {
      // No foreign key holds the twin (docs/imports.md): its key lock does, and a twin deleted since it was read
      // answers like any missing twin.
      if (!(await lockTwinKey(tx, twin))) throw notFound('Twin');
      const { inserted, existing } = await this.identities.insertMany(
        tx,
        twin,
        caller.account,
        caller.account,
        nowTs,
        entries,
      );
      if (existing.length > 0) {
        const shown = existing.slice(0, 10).join(', ') + (existing.length > 10 ? ', …' : '');
        throw badRequest('identity_exists', `Identity already exists on this twin: ${shown}`);
      }
      await this.audit.record(
        tx,
        actor,
        nowTs,
        inserted.map((i) => ({
          action: 'create_twin_identity',
          targetType: 'identity',
          target: identityTarget(twin, i.name),
        })),
      );
      return inserted;
    });
  }

  async list(principal: Caller, twin: string, filters: IdentityListFilters): Promise<ListedStoredIdentity[]> {
    // Issue #10: every rule of one listing draws on one request budget (fail closed when spent).
    const caller = withRequestRuleBudget(principal);
    const facts = await this.visibleTwin(caller, twin);
    const stored = await this.identities.listByTwin(twin, caller.account);
    const byRow = new Map<IdentityRow, StoredIdentity>();
    for (const identity of stored) byRow.set(toIdentityRow(identity, facts), identity);
    return listIdentities(Array.from(byRow.keys()), filters, caller, facts, nowSeconds()).map((listed) => ({
      identity: byRow.get(listed.row) as StoredIdentity,
      personal: listed.personal,
    }));
  }

  async get(caller: Caller, twin: string, name: string): Promise<StoredIdentity> {
    const facts = await this.visibleTwin(caller, twin);
    return this.ownIdentity(caller, facts, name);
  }

  async update(
    caller: Caller,
    actor: AuditActor,
    twin: string,
    name: string,
    changes: IdentityChanges,
  ): Promise<StoredIdentity> {
    const facts = await this.visibleTwin(caller, twin);
    const current = await this.ownIdentity(caller, facts, name);
    if (changes.visibility === undefined && changes.validityTs === undefined) return current;
    const nowTs = nowSeconds();
    return this.db.transaction(async (tx) => {
      const updated = await this.identities.update(tx, keyOf(caller, twin, name), changes, nowTs);
      if (!updated) throw notFound('Identity');
      await this.audit.record(tx, actor, nowTs, [
        { action: 'update_twin_identity', targetType: 'identity', target: identityTarget(twin, name) },
      ]);
      return updated;
    });
  }

  async delete(caller: Caller, actor: AuditActor, twin: string, name: string): Promise<StoredIdentity> {
    const facts = await this.visibleTwin(caller, twin);
    await this.ownIdentity(caller, facts, name);
    const nowTs = nowSeconds();
    return this.db.transaction(async (tx) => {
      const deleted = await this.identities.delete(tx, keyOf(caller, twin, name));
      if (!deleted) throw notFound('Identity');
      await this.audit.record(tx, actor, nowTs, [
        { action: 'delete_twin_identity', targetType: 'identity', target: identityTarget(twin, name) },
      ]);
      return deleted;
    });
  }

  private async visibleTwin(caller: Caller, uuid: string): Promise<TwinFacts> {
    const twin = await this.twins.find(uuid);
    if (!twin || !canSeeTwin(caller, twin, nowSeconds())) throw notFound('Twin');
    return twin;
  }

  /** The caller's account's identity of that name on the twin, if the role identity_rule lets the user see it. */
  private async ownIdentity(caller: Caller, twin: TwinFacts, name: string): Promise<StoredIdentity> {
    const found = await this.identities.find(keyOf(caller, twin.uuid, name));
    const visible =
      found !== undefined &&
      canSeeIdentity(caller, toIdentityRow(found, twin), twin, nowSeconds(), { allowExpiredPersonal: true });
    if (!visible) throw notFound('Identity');
    return found;
  }
}

function keyOf(caller: Caller, twin: string, name: string): IdentityKey {
  return { name, twin, owner: caller.account };
}

function toIdentityRow(identity: StoredIdentity, twin: TwinFacts): IdentityRow {
  return {
    name: identity.name,
    twin: identity.twin,
    owner: identity.owner,
    visibility: storedRule(identity.visibility),
    validityTs: identity.validityTs,
    twinCreatedTs: twin.createdTs,
    grantee: identity.grantee ?? null,
  };
}
