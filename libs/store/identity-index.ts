import { Injectable } from '@nestjs/common';
import type { IdentityRow, TwinFacts, TwinStatus } from '../domain/model.js';
import { storedRule } from '../domain/rules/stored-rule.js';
import { Db } from './db.js';

/**
 * One row of the identity index as PostgreSQL returns it: caller-independent facts, the visibility rule still as
 * text. The index turns it into an IdentityRow (rule compiled through the rule cache) as it loads it.
 */
export interface IndexedIdentity {
  name: string;
  twin: string;
  owner: string;
  /** Rule text; null = private. */
  visibility: string | null;
  /** Seconds since the epoch, or null for "never expires". */
  validityTs: number | null;
  /** Creation time of the twin the row points at (orders resolution answers). */
  twinCreatedTs: number;
  /** Set on a synced grant (identity_grants): visible to this account alone. */
  grantee: string | null;
}

/** Everything known of a twin: the facts rules and visibility read, plus what its API object shows. */
export interface IndexedTwin extends TwinFacts {
  creator: string;
  updatedTs: number;
  terminatedTs: number | null;
  /** Account that terminated the twin, or null while alive. */
  terminator: string | null;
}

/**
 * The identity index as resolution sees it: rows converted once, when loaded (rules compiled), never per request. Abstract class rather than interface so that it doubles as the Nest
 * injection token: a cache can be provided in front of the PostgreSQL implementation without touching the resolver.
 */
export abstract class IdentityIndex {
  /** Every row carrying `name`, of any owner, on any twin (alive or terminated). Order unspecified. */
  abstract lookup(name: string): Promise<IdentityRow[]>;
  /** `lookup` for many names in one round trip: every name asked for is a key of the answer (empty when unknown). */
  abstract lookupMany(names: readonly string[]): Promise<Map<string, IdentityRow[]>>;
  /**
   * The rows of `name` if a cache holds them now (synchronous hot path), else undefined: use lookup. Read them at
   * once and do not keep them: they are valid until the next peekRows (a cache may hand a view of its compact form).
   */
  peekRows(_name: string): readonly IdentityRow[] | undefined {
    return undefined;
  }
}

/** Twin facts by UUID, for details mode and for rules that read `TWIN`, `twin_owner` or `twin_status`. */
export abstract class TwinFactsIndex {
  /** The twins that exist among `uuids`, keyed by UUID; unknown UUIDs are simply absent. */
  abstract twinFacts(uuids: readonly string[]): Promise<Map<string, IndexedTwin>>;
}

export interface TwinRow {
  uuid: string;
  owner: string;
  status: TwinStatus;
  description: Record<string, unknown>;
  creator: string;
  created_ts: number;
  updated_ts: number;
  terminated_ts: number | null;
  terminator: string | null;
}

// Aliased to IndexedIdentity's field names so pg's row objects are the index rows: no copy per row.
const IDENTITY_COLUMNS = `i.name, i.twin, i.owner, i.visibility, i.validity_ts AS "validityTs", t.created_ts AS "twinCreatedTs"`;
const GRANT_COLUMNS = `g.name, g.twin, g.owner, NULL::text, g.validity_ts, t.created_ts, g.grantee`;

// identities_pkey and identity_grants_pkey both lead with the name: one index range scan each; twins_pkey for
// created_ts. Grants are a separate table so that they can never be mistaken for (or collide with) identities.
const LOOKUP_IDENTITY = `
  SELECT ${IDENTITY_COLUMNS}, NULL::uuid AS grantee FROM identities i JOIN twins t ON t.uuid = i.twin WHERE i.name = $1
  UNION ALL
  SELECT ${GRANT_COLUMNS} FROM identity_grants g JOIN twins t ON t.uuid = g.twin WHERE g.name = $1`;

// The same, one range scan per name of the array.
const LOOKUP_IDENTITIES = `
  SELECT ${IDENTITY_COLUMNS}, NULL::uuid AS grantee FROM identities i JOIN twins t ON t.uuid = i.twin
   WHERE i.name = ANY($1::text[])
  UNION ALL
  SELECT ${GRANT_COLUMNS} FROM identity_grants g JOIN twins t ON t.uuid = g.twin WHERE g.name = ANY($1::text[])`;

export const TWIN_COLUMNS = `uuid, owner, status, description, creator, created_ts, updated_ts, terminated_ts, terminator`;

// twins_pkey (uuid): one index probe per UUID of the array.
const LOOKUP_TWINS = `SELECT ${TWIN_COLUMNS} FROM twins WHERE uuid = ANY($1::uuid[])`;

/** The index read straight from PostgreSQL with named (prepared) statements. */
@Injectable()
export class PostgresIdentityIndex extends IdentityIndex {
  constructor(private readonly db: Db) {
    super();
  }

  async lookup(name: string): Promise<IdentityRow[]> {
    return toRows(await this.db.prepared<IndexedIdentity>('identity_index_lookup', LOOKUP_IDENTITY, [name]));
  }

  async lookupMany(names: readonly string[]): Promise<Map<string, IdentityRow[]>> {
    const found = new Map<string, IdentityRow[]>();
    for (const name of names) found.set(name, []);
    if (names.length === 0) return found;
    const rows = await this.db.prepared<IndexedIdentity>('identity_index_lookup_many', LOOKUP_IDENTITIES, [
      Array.from(found.keys()),
    ]);
    for (const row of toRows(rows)) found.get(row.name)?.push(row);
    return found;
  }
}

/** Convert once: the rule text becomes its compiled form in pg's own row object (no copy per row). */
function toRows(rows: IndexedIdentity[]): IdentityRow[] {
  for (const row of rows) {
    const r = row as unknown as IdentityRow;
    r.visibility = storedRule(row.visibility);
  }
  return rows as unknown as IdentityRow[];
}

@Injectable()
export class PostgresTwinFactsIndex extends TwinFactsIndex {
  constructor(private readonly db: Db) {
    super();
  }

  async twinFacts(uuids: readonly string[]): Promise<Map<string, IndexedTwin>> {
    const found = new Map<string, IndexedTwin>();
    if (uuids.length === 0) return found;
    const rows = await this.db.prepared<TwinRow>('twin_facts_lookup', LOOKUP_TWINS, [
      Array.from(new Set(uuids)),
    ]);
    for (const row of rows) found.set(row.uuid, toIndexedTwin(row));
    return found;
  }
}

export function toIndexedTwin(row: TwinRow): IndexedTwin {
  return {
    uuid: row.uuid,
    owner: row.owner,
    status: row.status,
    description: row.description,
    createdTs: row.created_ts,
    creator: row.creator,
    updatedTs: row.updated_ts,
    terminatedTs: row.terminated_ts,
    terminator: row.terminator,
  };
}
