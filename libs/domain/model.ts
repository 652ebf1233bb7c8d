/** Plain data shapes shared by the pure domain functions. No behaviour here. */
import type { CompiledRule, RuleBudget } from './rules/rule-types.js';

export type TwinStatus = 'alive' | 'terminated';

/** What visibility and details need to know of a twin. */
export interface TwinFacts {
  uuid: string;
  owner: string;
  status: TwinStatus;
  description: Record<string, unknown>;
  /** Seconds since the epoch; orders resolution answers. */
  createdTs: number;
}

/** One row of the identity index: (twin, owner, name) is unique. Caller-independent. */
export interface IdentityRow {
  name: string;
  twin: string;
  owner: string;
  /** null = private. */
  visibility: CompiledRule | null;
  /** Seconds since the epoch, or null for "never expires". */
  validityTs: number | null;
  /** Creation time of the twin the row points at (orders answers). */
  twinCreatedTs: number;
  /**
   * Set on a synced grant (docs/sync.md "Ownership", include_foreign): an upstream identity of another account,
   * visible to this account alone — never personal to, or visible through, the account it names as owner.
   */
  grantee?: string | null;
}

/** Who is asking: resolved from the API key once, then reused for every decision of the request. */
export interface Caller {
  account: string;
  user: string;
  role: string;
  /** The calling user's description (USER in rules). */
  userDescription: Record<string, unknown>;
  /** The request dictionary from the X-TrustedTwin header (DICT in rules); {} when absent. */
  dict: Record<string, unknown>;
  /** Role twin_rule: null = no foreign twins visible. */
  twinRule: CompiledRule | null;
  /** Role identity_rule: null = no extra restriction. */
  identityRule: CompiledRule | null;
  /**
   * The request's rule budget (issue #10): every rule evaluated for this caller draws on it, and once spent every
   * rule is false. Absent = each evaluation has only its own ceiling. Set per request, never on a cached principal.
   */
  ruleBudget?: RuleBudget;
}

/** Context narrowing of /resolve (docs/resolution.md). */
export type ResolveContext =
  { kind: 'personal' } | { kind: 'system' } | { kind: 'accounts'; accounts: ReadonlySet<string> };
