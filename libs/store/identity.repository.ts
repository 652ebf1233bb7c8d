import { Injectable } from '@nestjs/common';
import { Db, type Queryable } from './db.js';

/** An identity as stored, with what its API object shows. */
export interface StoredIdentity {
  name: string;
  twin: string;
  owner: string;
  visibility: string | null;
  validityTs: number | null;
  createdTs: number;
  updatedTs: number;
  creator: string;
  /** Set on a synced grant (identity_grants), which only its grantee ever sees. */
  grantee?: string | null;
}

export interface IdentityKey {
  name: string;
  twin: string;
  owner: string;
}

export interface NewIdentity {
  name: string;
  visibility: string | null;
  validityTs: number | null;
}

/** Attributes given replace; absent ones stay. */
export interface IdentityChanges {
  visibility?: string | null;
  validityTs?: number | null;
}

interface IdentityTableRow {
  name: string;
  twin: string;
  owner: string;
  visibility: string | null;
  validity_ts: number | null;
  created_ts: number;
  updated_ts: number;
  creator: string;
}

const COLUMNS = `name, twin, owner, visibility, validity_ts, created_ts, updated_ts, creator`;

/** The identities table for the write API and listings; resolution reads through IdentityIndex instead. */
@Injectable()
export class IdentityRepository {
  constructor(private readonly db: Db) {}

  /** Every identity on one twin, of every owner, plus the synced grants on it to `grantee`. */
  async listByTwin(twin: string, grantee: string): Promise<StoredIdentity[]> {
    // identities_twin_idx (twin, owner) and identity_grants_twin_idx (twin). A grant has no creator of its own:
    // the grantee stands in (the listing shows foreign entries without it anyway).
    const rows = await this.db.query<IdentityTableRow & { grantee: string | null }>(
      `SELECT ${COLUMNS}, NULL::uuid AS grantee FROM identities WHERE twin = $1
       UNION ALL
       SELECT name, twin, owner, NULL, validity_ts, created_ts, updated_ts, grantee, grantee
         FROM identity_grants WHERE twin = $1 AND grantee = $2`,
      [twin, grantee],
    );
    return rows.map((r) => ({ ...toStoredIdentity(r), grantee: r.grantee }));
  }

  async find(key: IdentityKey): Promise<StoredIdentity | undefined> {
    // identities_pkey (name, twin, owner).
    const rows = await this.db.query<IdentityTableRow>(
      `SELECT ${COLUMNS} FROM identities WHERE name = $1 AND twin = $2 AND owner = $3`,
      [key.name, key.twin, key.owner],
    );
    return rows[0] && toStoredIdentity(rows[0]);
  }

  /**
   * Inserts the identities that do not exist yet and returns them; names already held by `owner` on `twin` are
   * left untouched and reported in `existing`, so the caller can roll the whole batch back.
   */
  async insertMany(
    tx: Queryable,
    twin: string,
    owner: string,
    creator: string,
    nowTs: number,
    identities: readonly NewIdentity[],
  ): Promise<{ inserted: StoredIdentity[]; existing: string[] }> {
    const rows = await tx.query<IdentityTableRow>(
      `INSERT INTO identities (name, twin, owner, visibility, validity_ts, created_ts, updated_ts, creator)
       SELECT n, $1::uuid, $2::uuid, v, vt, $4, $4, $3::uuid
         FROM unnest($5::text[], $6::text[], $7::float8[]) AS u(n, v, vt)
       ON CONFLICT (name, twin, owner) DO NOTHING
       RETURNING ${COLUMNS}`,
      [
        twin,
        owner,
        creator,
        nowTs,
        identities.map((i) => i.name),
        identities.map((i) => i.visibility),
        identities.map((i) => i.validityTs),
      ],
    );
    const inserted = rows.map(toStoredIdentity);
    const done = new Set(inserted.map((i) => i.name));
    return { inserted, existing: identities.filter((i) => !done.has(i.name)).map((i) => i.name) };
  }

  async update(
    tx: Queryable,
    key: IdentityKey,
    changes: IdentityChanges,
    nowTs: number,
  ): Promise<StoredIdentity | undefined> {
    const rows = await tx.query<IdentityTableRow>(
      `UPDATE identities
          SET visibility = CASE WHEN $4 THEN $5 ELSE visibility END,
              validity_ts = CASE WHEN $6 THEN $7::float8 ELSE validity_ts END,
              updated_ts = $8
        WHERE name = $1 AND twin = $2 AND owner = $3
        RETURNING ${COLUMNS}`,
      [
        key.name,
        key.twin,
        key.owner,
        changes.visibility !== undefined,
        changes.visibility ?? null,
        changes.validityTs !== undefined,
        changes.validityTs ?? null,
        nowTs,
      ],
    );
    return rows[0] && toStoredIdentity(rows[0]);
  }

  async delete(tx: Queryable, key: IdentityKey): Promise<StoredIdentity | undefined> {
    const rows = await tx.query<IdentityTableRow>(
      `DELETE FROM identities WHERE name = $1 AND twin = $2 AND owner = $3 RETURNING ${COLUMNS}`,
      [key.name, key.twin, key.owner],
    );
    return rows[0] && toStoredIdentity(rows[0]);
  }
}

function toStoredIdentity(row: IdentityTableRow): StoredIdentity {
  return {
    name: row.name,
    twin: row.twin,
    owner: row.owner,
    visibility: row.visibility,
    validityTs: row.validity_ts,
    createdTs: row.created_ts,
    updatedTs: row.updated_ts,
    creator: row.creator,
  };
}
