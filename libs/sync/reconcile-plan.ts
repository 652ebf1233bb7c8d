import { isValidIdentityName } from '../domain/identity/identity-name.js';
import { normalizeUuid } from '../domain/identity/uuid.js';
import { holdsIllFormedText, quoteForReport, textProblem } from '../domain/identity/well-formed-text.js';
import { ruleTextProblem } from '../domain/rules/index.js';
import type { SyncedTwin } from '../store/twin.repository.js';
import type { UpstreamIdentities, UpstreamTwin } from './upstream-schemas.js';

/** An identity of the source's own account, as upstream has it. */
export interface PlannedIdentity {
  name: string;
  /** undefined: upstream did not say, keep what is stored (new rows are private). */
  visibility: string | null | undefined;
  validityTs: number | null;
  createdTs: number;
  updatedTs: number;
}

/** An identity another account owns that upstream shows the source's account: stored as a grant to it. */
export interface PlannedGrant {
  name: string;
  owner: string;
  validityTs: number | null;
  createdTs: number;
  updatedTs: number;
}

/** A twin as the reconcile writes it: the store's shape (the one writer of twins). */
export type PlannedTwin = SyncedTwin;

export interface RejectedEntry {
  name: string;
  owner: string;
  reason: string;
}

export interface IdentityPlan {
  personal: PlannedIdentity[];
  grants: PlannedGrant[];
  /**
   * Entries that cannot be stored: a bad account id, a name or rule the API and imports would refuse (the same
   * checks: identity name pattern, well-formed text, `ruleTextProblem`). Reported, never stored; their valid
   * siblings are kept. An identity whose rule is refused is skipped whole rather than stored with another rule.
   */
  rejected: RejectedEntry[];
}

/**
 * Splits upstream's answer by owner. Ownership is never taken on trust: the source's own account's entries become
 * its identities; any other account's become grants to the source's account, and only with include_foreign.
 */
export function planIdentities(
  account: string,
  includeForeign: boolean,
  upstream: UpstreamIdentities,
): IdentityPlan {
  const plan: IdentityPlan = { personal: [], grants: [], rejected: [] };
  const seenPersonal = new Set<string>();
  const seenGrant = new Set<string>();
  for (const [rawOwner, identities] of Object.entries(upstream.accounts)) {
    const owner = normalizeUuid(rawOwner);
    const personal = owner === account;
    if (!personal && !includeForeign) continue;
    for (const [name, attrs] of Object.entries(identities)) {
      if (owner === null) {
        plan.rejected.push({ name, owner: rawOwner, reason: 'owner is not an account UUID' });
        continue;
      }
      if (!isValidIdentityName(name)) {
        const problem = textProblem(name);
        plan.rejected.push({ name, owner, reason: `invalid identity name${problem ? ` (${problem})` : ''}` });
        continue;
      }
      const validityTs = attrs.validity_ts ?? null;
      if (personal) {
        const rule = attrs.visibility;
        const problem = typeof rule === 'string' ? (textProblem(rule) ?? ruleTextProblem(rule)) : null;
        if (problem !== null) {
          plan.rejected.push({ name, owner, reason: `invalid visibility rule: ${problem}` });
          continue;
        }
        // Two spellings of the owner (case) could name one row twice; PostgreSQL refuses that in one upsert.
        if (seenPersonal.has(name)) continue;
        seenPersonal.add(name);
        plan.personal.push({
          name,
          visibility: attrs.visibility,
          validityTs,
          createdTs: attrs.created_ts,
          updatedTs: attrs.updated_ts,
        });
      } else {
        const key = `${owner} ${name}`;
        if (seenGrant.has(key)) continue;
        seenGrant.add(key);
        plan.grants.push({
          name,
          owner,
          validityTs,
          createdTs: attrs.created_ts,
          updatedTs: attrs.updated_ts,
        });
      }
    }
  }
  return plan;
}

/** How many rejected entries a twin's report lists one by one; the rest are counted in one more line. */
export const REJECTIONS_LISTED = 5;

/**
 * The run report's lines for a twin's rejected entries. Names and owners come from upstream: quoted short and in
 * ASCII-safe escapes, so a NUL or lone surrogate being reported cannot make the report itself unstorable (it did:
 * the twin then failed and was retried for minutes, its valid identities lost).
 */
export function rejectionLines(rejected: readonly RejectedEntry[]): string[] {
  const lines = rejected
    .slice(0, REJECTIONS_LISTED)
    .map((r) => `identity ${quoteForReport(r.name)} of ${quoteForReport(r.owner)} skipped: ${r.reason}`);
  if (rejected.length > REJECTIONS_LISTED) {
    lines.push(`${rejected.length - REJECTIONS_LISTED} more identities of the twin skipped`);
  }
  return lines;
}

/** The twin as stored locally, or a reason it cannot be. */
export function planTwin(requested: string, upstream: UpstreamTwin): PlannedTwin | { invalid: string } {
  if (upstream.uuid !== undefined && normalizeUuid(upstream.uuid) !== requested) {
    return { invalid: `upstream answered twin ${upstream.uuid} for ${requested}` };
  }
  const owner = normalizeUuid(upstream.owner);
  if (owner === null) return { invalid: 'twin owner is not an account UUID' };
  const creator = normalizeUuid(upstream.creation_certificate.creator ?? owner) ?? owner;
  const description = upstream.description ?? {};
  if (holdsIllFormedText(description)) {
    return { invalid: 'twin description holds a NUL character or a lone UTF-16 surrogate' };
  }
  const termination = upstream.termination_certificate ?? null;
  const terminated = upstream.status === 'terminated';
  const createdTs = upstream.creation_certificate.created_ts;
  return {
    uuid: requested,
    owner,
    status: upstream.status,
    description,
    creator,
    createdTs,
    updatedTs: upstream.updated_ts ?? createdTs,
    terminatedTs: terminated ? (termination?.terminated_ts ?? upstream.updated_ts ?? createdTs) : null,
    terminator: terminated ? (normalizeUuid(termination?.issuer ?? owner) ?? owner) : null,
  };
}
