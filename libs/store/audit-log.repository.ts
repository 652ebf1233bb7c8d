import { Injectable } from '@nestjs/common';
import { Db, type Queryable } from './db.js';

/** Who wrote, from which request: the part of an audit entry every write of one request shares. */
export interface AuditActor {
  account: string;
  user: string | null;
  /** The request id, also sent as X-Request-Id. */
  trace: string | null;
}

export interface AuditTarget {
  action: string;
  targetType: string;
  target: string;
}

export interface AuditEntry extends AuditTarget {
  /** Increasing with time; the paging key. Decimal string (bigserial). */
  id: string;
  account: string;
  user: string | null;
  trace: string | null;
  ts: number;
}

interface AuditRow {
  id: string;
  account: string;
  user_uuid: string | null;
  action: string;
  target_type: string;
  target: string;
  trace: string | null;
  ts: number;
}

@Injectable()
export class AuditLogRepository {
  constructor(private readonly db: Db) {}

  /** Records writes inside the transaction that makes them, so the trail and the data commit together. */
  async record(
    tx: Queryable,
    actor: AuditActor,
    nowTs: number,
    targets: readonly AuditTarget[],
  ): Promise<void> {
    if (targets.length === 0) return;
    await tx.query(
      `INSERT INTO audit_log (account, user_uuid, action, target_type, target, trace, ts)
       SELECT $1, $2, a, tt, t, $3, $4 FROM unnest($5::text[], $6::text[], $7::text[]) AS u(a, tt, t)`,
      [
        actor.account,
        actor.user,
        actor.trace,
        nowTs,
        targets.map((t) => t.action),
        targets.map((t) => t.targetType),
        targets.map((t) => t.target),
      ],
    );
  }

  /** The account's entries, newest first, strictly older than `beforeId` when given. */
  async list(account: string, limit: number, beforeId?: string): Promise<AuditEntry[]> {
    // audit_log_account_idx (account, id DESC).
    const rows = await this.db.query<AuditRow>(
      `SELECT id, account, user_uuid, action, target_type, target, trace, ts FROM audit_log
        WHERE account = $1 AND ($2::bigint IS NULL OR id < $2::bigint)
        ORDER BY id DESC LIMIT $3`,
      [account, beforeId ?? null, limit],
    );
    return rows.map((r) => ({
      id: r.id,
      account: r.account,
      user: r.user_uuid,
      action: r.action,
      targetType: r.target_type,
      target: r.target,
      trace: r.trace,
      ts: r.ts,
    }));
  }
}
