import { Injectable } from '@nestjs/common';
import { revokeSourceGrants } from '../store/grant-writer.js';
import { deleteSourceIdentities } from '../store/identity.repository.js';
import { removeOrphanSyncedTwins } from '../store/twin.repository.js';
import { Db, type Queryable } from '../store/db.js';

/** A sync source as every reader sees it: never the secret, never the webhook token. */
export interface SyncSource {
  uuid: string;
  account: string;
  name: string;
  baseUrl: string;
  schedule: string | null;
  includeForeign: boolean;
  enabled: boolean;
  maxConcurrency: number;
  maxRate: number;
  /** A topic of the upstream this source subscribes its webhook intake to (edge mirror by push), or null. */
  subscribeTopic: string | null;
  createdTs: number;
  updatedTs: number;
}

export interface SyncSourceWithSecret extends SyncSource {
  secretEncrypted: Buffer;
}

export interface NewSyncSource extends SyncSource {
  secretEncrypted: Buffer;
  webhookTokenHash: Buffer;
}

/** Attributes given replace; absent ones stay. */
export interface SyncSourceChanges {
  name?: string;
  baseUrl?: string;
  secretEncrypted?: Buffer;
  schedule?: string | null;
  includeForeign?: boolean;
  enabled?: boolean;
  maxConcurrency?: number;
  maxRate?: number;
  subscribeTopic?: string | null;
}

interface SourceRow {
  uuid: string;
  account: string;
  name: string;
  base_url: string;
  schedule: string | null;
  include_foreign: boolean;
  enabled: boolean;
  max_concurrency: number;
  max_rate: number;
  subscribe_topic: string | null;
  created_ts: number;
  updated_ts: number;
  secret_encrypted?: Buffer;
}

const COLUMNS = `uuid, account, name, base_url, schedule, include_foreign, enabled, max_concurrency, max_rate,
  subscribe_topic, created_ts, updated_ts`;

@Injectable()
export class SyncSourcesRepository {
  constructor(private readonly db: Db) {}

  async insert(tx: Queryable, s: NewSyncSource): Promise<SyncSource> {
    const rows = await tx.query<SourceRow>(
      `INSERT INTO sync_sources (uuid, account, name, base_url, secret_encrypted, schedule, include_foreign, enabled,
         max_concurrency, max_rate, webhook_token_hash, created_ts, updated_ts, subscribe_topic)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13)
       RETURNING ${COLUMNS}`,
      [
        s.uuid,
        s.account,
        s.name,
        s.baseUrl,
        s.secretEncrypted,
        s.schedule,
        s.includeForeign,
        s.enabled,
        s.maxConcurrency,
        s.maxRate,
        s.webhookTokenHash,
        s.createdTs,
        s.subscribeTopic,
      ],
    );
    return toSource(rows[0]);
  }

  async list(account: string): Promise<SyncSource[]> {
    // sync_sources_account_idx (account, created_ts).
    const rows = await this.db.query<SourceRow>(
      `SELECT ${COLUMNS} FROM sync_sources WHERE account = $1 ORDER BY created_ts, uuid`,
      [account],
    );
    return rows.map(toSource);
  }

  async get(account: string, uuid: string): Promise<SyncSource | undefined> {
    const rows = await this.db.query<SourceRow>(
      `SELECT ${COLUMNS} FROM sync_sources WHERE uuid = $1 AND account = $2`,
      [uuid, account],
    );
    return rows[0] && toSource(rows[0]);
  }

  /**
   * For the worker: the source with its sealed secret, whatever account it belongs to, and the database clock now
   * (one round trip for both: this runs once per twin sync).
   */
  async getWithSecret(uuid: string): Promise<(SyncSourceWithSecret & { nowTs: number }) | undefined> {
    const rows = await this.db.prepared<SourceRow & { now_ts: number }>(
      'sync_source_with_secret',
      `SELECT ${COLUMNS}, secret_encrypted, extract(epoch FROM clock_timestamp())::float8 AS now_ts
         FROM sync_sources WHERE uuid = $1`,
      [uuid],
    );
    const row = rows[0];
    return row && { ...toSource(row), secretEncrypted: row.secret_encrypted as Buffer, nowTs: row.now_ts };
  }

  /**
   * What a running scan re-reads before each page and every few seconds between: whether its source still exists,
   * is enabled, and holds the credential and address the scan started with. sync_sources_pkey.
   */
  async credentialState(
    uuid: string,
  ): Promise<{ enabled: boolean; baseUrl: string; secretEncrypted: Buffer } | undefined> {
    const rows = await this.db.prepared<{ enabled: boolean; base_url: string; secret_encrypted: Buffer }>(
      'sync_source_credential_state',
      `SELECT enabled, base_url, secret_encrypted FROM sync_sources WHERE uuid = $1`,
      [uuid],
    );
    const row = rows[0];
    return row && { enabled: row.enabled, baseUrl: row.base_url, secretEncrypted: row.secret_encrypted };
  }

  async webhookTokenHash(
    uuid: string,
  ): Promise<{ account: string; enabled: boolean; hash: Buffer; baseUrl: string } | undefined> {
    const rows = await this.db.query<{
      account: string;
      enabled: boolean;
      webhook_token_hash: Buffer;
      base_url: string;
    }>(`SELECT account, enabled, webhook_token_hash, base_url FROM sync_sources WHERE uuid = $1`, [uuid]);
    const row = rows[0];
    return (
      row && {
        account: row.account,
        enabled: row.enabled,
        hash: row.webhook_token_hash,
        baseUrl: row.base_url,
      }
    );
  }

  /** Every source, for aligning job schedulers with the table at worker start. */
  async listAll(): Promise<SyncSource[]> {
    const rows = await this.db.query<SourceRow>(
      `SELECT ${COLUMNS} FROM sync_sources ORDER BY created_ts, uuid`,
    );
    return rows.map(toSource);
  }

  async update(
    tx: Queryable,
    account: string,
    uuid: string,
    c: SyncSourceChanges,
    nowTs: number,
  ): Promise<SyncSource | undefined> {
    // Switching include_foreign off revokes the source's grants at once; reconciles in flight hold the source lock
    // shared, so none of them stores a grant after this.
    if (c.includeForeign === false) await lockSource(tx, uuid, 'exclusive');
    const rows = await tx.query<SourceRow>(
      `UPDATE sync_sources SET
         name = COALESCE($3, name),
         base_url = COALESCE($4, base_url),
         secret_encrypted = COALESCE($5, secret_encrypted),
         schedule = CASE WHEN $6 THEN $7 ELSE schedule END,
         include_foreign = COALESCE($8, include_foreign),
         enabled = COALESCE($9, enabled),
         max_concurrency = COALESCE($10, max_concurrency),
         max_rate = COALESCE($11, max_rate),
         updated_ts = $12,
         subscribe_topic = CASE WHEN $13 THEN $14 ELSE subscribe_topic END
       WHERE uuid = $1 AND account = $2
       RETURNING ${COLUMNS}`,
      [
        uuid,
        account,
        c.name ?? null,
        c.baseUrl ?? null,
        c.secretEncrypted ?? null,
        c.schedule !== undefined,
        c.schedule ?? null,
        c.includeForeign ?? null,
        c.enabled ?? null,
        c.maxConcurrency ?? null,
        c.maxRate ?? null,
        nowTs,
        c.subscribeTopic !== undefined,
        c.subscribeTopic ?? null,
      ],
    );
    if (rows[0] && c.includeForeign === false) {
      await revokeSourceGrants(tx, uuid);
    }
    return rows[0] && toSource(rows[0]);
  }

  /**
   * Deletes the source with every row it wrote: its identities and grants, and the synced twins nothing else holds
   * any more. Waits for reconciles of the source in flight (they hold the source lock shared) and makes later ones
   * find no source.
   */
  async delete(tx: Queryable, account: string, uuid: string): Promise<SyncSource | undefined> {
    await lockSource(tx, uuid, 'exclusive');
    const found = await tx.query<SourceRow>(
      `SELECT ${COLUMNS} FROM sync_sources WHERE uuid = $1 AND account = $2 FOR UPDATE`,
      [uuid, account],
    );
    if (!found[0]) return undefined;
    const twins = await tx.query<{ twin: string }>(`SELECT twin FROM sync_twins WHERE source = $1`, [uuid]);
    await deleteSourceIdentities(tx, uuid);
    await revokeSourceGrants(tx, uuid);
    await tx.query(`DELETE FROM sync_sources WHERE uuid = $1`, [uuid]);
    await removeOrphanSyncedTwins(
      tx,
      twins.map((t) => t.twin),
    );
    return toSource(found[0]);
  }
}

/**
 * A transaction-level advisory lock per source: reconciles hold it shared; deleting the source, or switching its
 * include_foreign off, holds it exclusive. In memory, unlike a row lock, so thousands of reconciles cost no writes.
 */
export async function lockSource(tx: Queryable, source: string, mode: 'shared' | 'exclusive'): Promise<void> {
  const fn = mode === 'shared' ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock';
  await tx.query(`SELECT ${fn}(hashtextextended($1, 7260))`, [`sync-source ${source}`]);
}

function toSource(row: SourceRow): SyncSource {
  return {
    uuid: row.uuid,
    account: row.account,
    name: row.name,
    baseUrl: row.base_url,
    schedule: row.schedule,
    includeForeign: row.include_foreign,
    enabled: row.enabled,
    maxConcurrency: row.max_concurrency,
    maxRate: row.max_rate,
    subscribeTopic: row.subscribe_topic,
    createdTs: row.created_ts,
    updatedTs: row.updated_ts,
  };
}
