import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Caller } from '../../../libs/domain/model.js';
import { badRequest, forbidden, notFound } from '../../../libs/domain/errors.js';
import { ruleBudgetSpent, withRequestRuleBudget } from '../../../libs/domain/visibility/rule-variables.js';
import { canSeeTwin } from '../../../libs/domain/visibility/visibility.js';
import { type AuditActor, AuditLogRepository } from '../../../libs/store/audit-log.repository.js';
import { Db } from '../../../libs/store/db.js';
import { type IndexedTwin } from '../../../libs/store/identity-index.js';
import { TwinRepository, type TwinScanPosition } from '../../../libs/store/twin.repository.js';
import { nowSeconds } from '../../../libs/clock/clock.js';

export interface TwinScanRequest {
  count: number;
  after?: TwinScanPosition;
  updatedSince?: number;
}

export interface TwinScanPage {
  twins: IndexedTwin[];
  /** Where the next page starts; undefined on the last page. */
  next?: TwinScanPosition;
}

/**
 * A scan with a foreign-twin rule filters in the process (the rule language is not SQL); it examines at most this
 * many twins per call, then answers a shorter page with a cursor, so one request's cost stays bounded.
 */
const SCAN_BUDGET = 5000;
const SCAN_BATCH = 500;

/**
 * Twins: create, read, scan, update, terminate — each write audited in its own transaction. This process's cached
 * twin facts forget a written twin before the write is answered: TwinRepository reports it (CommittedChanges).
 */
@Injectable()
export class TwinsService {
  constructor(
    private readonly db: Db,
    private readonly twins: TwinRepository,
    private readonly audit: AuditLogRepository,
  ) {}

  async create(
    caller: Caller,
    actor: AuditActor,
    description: Record<string, unknown>,
  ): Promise<IndexedTwin> {
    const nowTs = nowSeconds();
    return this.db.transaction(async (tx) => {
      const twin = await this.twins.insert(tx, {
        uuid: randomUUID(),
        owner: caller.account,
        description,
        nowTs,
      });
      await this.audit.record(tx, actor, nowTs, [
        { action: 'create_twin', targetType: 'twin', target: twin.uuid },
      ]);
      return twin;
    });
  }

  /** The twin if the caller may see it; 404 alike for absent and invisible. */
  async get(caller: Caller, uuid: string): Promise<IndexedTwin> {
    const twin = await this.twins.find(uuid);
    if (!twin || !canSeeTwin(caller, twin, nowSeconds())) throw notFound('Twin');
    return twin;
  }

  async updateDescription(
    caller: Caller,
    actor: AuditActor,
    uuid: string,
    description: Record<string, unknown>,
  ): Promise<IndexedTwin> {
    const nowTs = nowSeconds();
    return this.db.transaction(async (tx) => {
      const twin = ownedTwin(caller, await this.twins.findForUpdate(tx, uuid), nowTs, 'update');
      if (twin.status !== 'alive') throw badRequest('twin_terminated', 'A terminated twin cannot be updated');
      const updated = await this.twins.updateDescription(tx, uuid, description, nowTs);
      await this.audit.record(tx, actor, nowTs, [
        { action: 'update_twin', targetType: 'twin', target: uuid },
      ]);
      return updated;
    });
  }

  async terminate(caller: Caller, actor: AuditActor, uuid: string): Promise<IndexedTwin> {
    const nowTs = nowSeconds();
    return this.db.transaction(async (tx) => {
      const twin = ownedTwin(caller, await this.twins.findForUpdate(tx, uuid), nowTs, 'terminate');
      if (twin.status !== 'alive')
        throw badRequest('idempotency_violation', 'The twin is already terminated');
      const terminated = await this.twins.terminate(tx, uuid, caller.account, nowTs);
      await this.audit.record(tx, actor, nowTs, [
        { action: 'terminate_twin', targetType: 'twin', target: uuid },
      ]);
      return terminated;
    });
  }

  /**
   * The twins the caller may see, in (updated_ts, uuid) order. Without a role twin_rule that is exactly the
   * caller's own twins — one index range; with one, every twin is examined against the rule.
   */
  async scan(principal: Caller, request: TwinScanRequest): Promise<TwinScanPage> {
    const nowTs = nowSeconds();
    // Issue #10: the twin_rule evaluations of one scan share one budget; when it is spent the page ends there.
    const caller = withRequestRuleBudget(principal);
    const ownOnly = caller.twinRule === null;
    const batch = ownOnly ? request.count + 1 : SCAN_BATCH;
    const twins: IndexedTwin[] = [];
    let after = request.after;
    let examined = 0;
    for (;;) {
      const rows = await this.twins.scan({
        owner: ownOnly ? caller.account : undefined,
        after,
        updatedSince: request.updatedSince,
        limit: batch,
      });
      for (const twin of rows) {
        const visible = ownOnly || canSeeTwin(caller, twin, nowTs);
        // A twin judged false only because the budget ran out is not skipped: the next page starts before it.
        if (!visible && ruleBudgetSpent(caller)) return { twins, next: after };
        if (visible) {
          // One visible twin beyond the page proves there is a next page.
          if (twins.length === request.count) return { twins, next: position(twins[twins.length - 1]) };
          twins.push(twin);
        }
        after = position(twin);
        examined++;
      }
      if (rows.length < batch) return { twins };
      if (examined >= SCAN_BUDGET) return { twins, next: after };
    }
  }
}

/** Owner-only writes: invisible → 404 (no existence oracle), visible but foreign → 403. */
function ownedTwin(caller: Caller, twin: IndexedTwin | undefined, nowTs: number, verb: string): IndexedTwin {
  if (!twin || !canSeeTwin(caller, twin, nowTs)) throw notFound('Twin');
  if (twin.owner !== caller.account) throw forbidden(`Only the owner account may ${verb} a twin`);
  return twin;
}

function position(twin: IndexedTwin): TwinScanPosition {
  return { updatedTs: twin.updatedTs, uuid: twin.uuid };
}
