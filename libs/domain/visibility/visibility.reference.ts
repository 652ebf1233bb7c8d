/**
 * Test oracle: visibility, resolution and listing (docs/visibility.md, docs/resolution.md) written as plainly as
 * possible, straight from the documented rules, with no regard for speed. Property tests compare the real
 * implementation against it. It deliberately shares no code with the implementation (not even the variable builder) —
 * only the data types. Not used by the application.
 */
import type { Caller, IdentityRow, ResolveContext, TwinFacts } from '../model.js';
import type { CompiledRule, RuleVariables } from '../rules/rule-types.js';

export interface ReferenceListFilters {
  showPersonal: boolean;
  showValid: boolean;
  showExpired: boolean;
  showPublic: boolean;
  showPrivate: boolean;
  /** false, true, or one account UUID. */
  showForeign: boolean | string;
}

/** docs/rules.md "Variables", one line per table row. */
function variables(
  caller: Caller,
  now: number,
  twinUuid: string,
  twin: TwinFacts | undefined,
  identity: string | null,
) {
  const vars: RuleVariables = {};
  vars.account = caller.account;
  vars.user = caller.user;
  vars.role = caller.role;
  vars.now = now;
  vars.twin = twinUuid;
  vars.identity = identity;
  vars.twin_owner = twin === undefined ? null : twin.owner;
  vars.twin_status = twin === undefined ? null : twin.status;
  vars.TWIN = twin === undefined ? null : twin.description;
  vars.USER = caller.userDescription;
  vars.DICT = caller.dict;
  return vars;
}

/** "A rule that fails to evaluate counts as false." */
function ruleSaysTrue(rule: CompiledRule, vars: RuleVariables): boolean {
  try {
    return rule.evaluate(vars) === true;
  } catch {
    return false;
  }
}

/** "valid when validity_ts is null or > now". */
export function referenceIsValid(identity: IdentityRow, now: number): boolean {
  if (identity.validityTs === null) return true;
  return identity.validityTs > now;
}

/** docs/visibility.md "Who sees an identity", conditions 1, 2 and 3 checked one after another. */
export function referenceMaySeeIdentity(
  caller: Caller,
  identity: IdentityRow,
  twins: ReadonlyMap<string, TwinFacts>,
  now: number,
  showExpiredPersonal: boolean,
): boolean {
  const vars = variables(caller, now, identity.twin, twins.get(identity.twin), identity.name);

  // docs/sync.md "Ownership": a grant is visible to its grantee alone, while valid, within the role's identity rule.
  if (identity.grantee !== undefined && identity.grantee !== null) {
    if (identity.grantee !== caller.account) return false;
    if (!referenceIsValid(identity, now)) return false;
    return caller.identityRule === null || ruleSaysTrue(caller.identityRule, vars);
  }

  let condition1 = false;
  if (identity.owner === caller.account) condition1 = true;
  if (identity.visibility !== null && ruleSaysTrue(identity.visibility, vars)) condition1 = true;

  let condition2 = false;
  if (caller.identityRule === null) condition2 = true;
  else if (ruleSaysTrue(caller.identityRule, vars)) condition2 = true;

  let condition3 = false;
  if (referenceIsValid(identity, now)) condition3 = true;
  else if (identity.owner === caller.account && showExpiredPersonal) condition3 = true;

  return condition1 && condition2 && condition3;
}

/** docs/visibility.md "Who sees a twin". */
export function referenceMaySeeTwin(caller: Caller, twin: TwinFacts, now: number): boolean {
  if (twin.owner === caller.account) return true;
  if (caller.twinRule === null) return false;
  return ruleSaysTrue(caller.twinRule, variables(caller, now, twin.uuid, twin, null));
}

/**
 * Resolution as docs/resolution.md describes it. Returns twin UUIDs (details=false) or the UUIDs of the twin objects
 * returned (details=true; a twin with no facts cannot be returned as an object).
 */
export function referenceResolve(
  index: readonly IdentityRow[],
  twins: ReadonlyMap<string, TwinFacts>,
  name: string,
  context: ResolveContext,
  details: boolean,
  caller: Caller,
  now: number,
): string[] {
  // 1. every row of the index with that name
  const step1 = index.filter((row) => row.name === name);

  // 2. narrow by context
  const step2 = step1.filter((row) => {
    if (context.kind === 'personal') return row.owner === caller.account;
    if (context.kind === 'system') return true;
    return [...context.accounts].includes(row.owner);
  });

  // 3. keep the rows the caller may see (valid only)
  const step3 = step2.filter((row) => referenceMaySeeIdentity(caller, row, twins, now, false));

  // 4. distinct twin UUIDs; with details only twins the caller may see
  const distinct: string[] = [];
  for (const row of step3) if (!distinct.includes(row.twin)) distinct.push(row.twin);
  let answer = distinct;
  if (details) {
    answer = distinct.filter((uuid) => {
      const twin = twins.get(uuid);
      return twin !== undefined && referenceMaySeeTwin(caller, twin, now);
    });
  }

  // 5. order by twin creation time, then UUID
  const createdOf = (uuid: string) => step3.find((row) => row.twin === uuid)?.twinCreatedTs ?? 0;
  return [...answer].sort((a, b) => createdOf(a) - createdOf(b) || (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * docs/visibility.md "Listing a twin's identities": which identities of `twin` are listed, as rows. Order is not part
 * of the oracle. (The 404 for an invisible twin is decided before listing, so it is not modelled here.)
 */
export function referenceListIdentities(
  index: readonly IdentityRow[],
  twins: ReadonlyMap<string, TwinFacts>,
  twin: string,
  filters: ReferenceListFilters,
  caller: Caller,
  now: number,
): IdentityRow[] {
  const listed: IdentityRow[] = [];
  for (const row of index) {
    if (row.twin !== twin) continue;
    // A grant is foreign to everyone, its grantee included (it only ever shows among foreign identities).
    const isGrant = row.grantee !== undefined && row.grantee !== null;
    const personal = row.owner === caller.account && !isGrant;
    if (personal) {
      if (!filters.showPersonal) continue;
      const valid = referenceIsValid(row, now);
      const passesValidityPair = (valid && filters.showValid) || (!valid && filters.showExpired);
      const isPublic = row.visibility !== null;
      const passesPublicityPair = (isPublic && filters.showPublic) || (!isPublic && filters.showPrivate);
      if (
        passesValidityPair &&
        passesPublicityPair &&
        referenceMaySeeIdentity(caller, row, twins, now, true)
      ) {
        listed.push(row);
      }
    } else {
      if (filters.showForeign === false) continue;
      if (typeof filters.showForeign === 'string' && row.owner !== filters.showForeign) continue;
      if (referenceMaySeeIdentity(caller, row, twins, now, false)) listed.push(row);
    }
  }
  return listed;
}

/**
 * Reference for sync ownership (issue #10): may a source of `account` write a twin (its row or identities on it),
 * given the twin as it exists here (`stored`, null if new) and the owner upstream claims? Written as the three
 * rules read, independently of libs/domain/sync/mirror-ownership.ts.
 */
export function referenceMirrorAllowed(
  stored: { owner: string; source: string | null } | null,
  source: string,
  account: string,
  claimedOwner: string,
  accountsHere: ReadonlySet<string>,
): boolean {
  // 1. Another account's twin is off limits, unless this very source brought it.
  if (stored && stored.owner !== account && stored.source !== source) return false;
  // 2. A twin the source brought as its account's own keeps that owner.
  if (stored && stored.source === source && stored.owner === account && claimedOwner !== account)
    return false;
  // 3. No write may leave a twin owned by an account that exists here and did not own it before (other than the
  //    source's own account): that account would see it as its own.
  const ownerAfter = stored === null || stored.source === source ? claimedOwner : stored.owner;
  const newOwner = ownerAfter !== account && ownerAfter !== stored?.owner;
  return !(newOwner && accountsHere.has(ownerAfter));
}
