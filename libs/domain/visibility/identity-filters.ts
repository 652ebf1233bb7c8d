import type { Caller, IdentityRow, TwinFacts } from '../model.js';
import { normalizeUuid } from '../identity/uuid.js';
import { InvalidParameterError, parseBooleanParameter, parseBooleanText, quote } from './query-parameters.js';
import { decideIdentity, isValid, TwinVariablesCache } from './visibility.js';

/** `show_foreign`: off, every account the caller may see, or one account. */
export type ForeignFilter = { kind: 'none' } | { kind: 'all' } | { kind: 'account'; account: string };

/** The filters of GET /twins/{twin}/identities (docs/visibility.md). */
export interface IdentityListFilters {
  showPersonal: boolean;
  showValid: boolean;
  showExpired: boolean;
  showPublic: boolean;
  showPrivate: boolean;
  showForeign: ForeignFilter;
}

export const DEFAULT_IDENTITY_LIST_FILTERS: Readonly<IdentityListFilters> = Object.freeze({
  showPersonal: true,
  showValid: true,
  showExpired: false,
  showPublic: true,
  showPrivate: true,
  showForeign: Object.freeze({ kind: 'none' }),
});

/** Parses the listing filters from a query object; unknown parameters are ignored (docs/http.md). */
export function parseIdentityListFilters(query: Readonly<Record<string, unknown>>): IdentityListFilters {
  const d = DEFAULT_IDENTITY_LIST_FILTERS;
  return {
    showPersonal: parseBooleanParameter('show_personal', query.show_personal, d.showPersonal),
    showValid: parseBooleanParameter('show_valid', query.show_valid, d.showValid),
    showExpired: parseBooleanParameter('show_expired', query.show_expired, d.showExpired),
    showPublic: parseBooleanParameter('show_public', query.show_public, d.showPublic),
    showPrivate: parseBooleanParameter('show_private', query.show_private, d.showPrivate),
    showForeign: parseForeignFilter(query.show_foreign),
  };
}

/** `show_foreign`: true/false in any case, or an account UUID (lowercased). */
export function parseForeignFilter(raw: unknown): ForeignFilter {
  if (raw === undefined) return DEFAULT_IDENTITY_LIST_FILTERS.showForeign;
  const value = Array.isArray(raw) && raw.length === 1 ? (raw[0] as unknown) : raw;
  if (Array.isArray(value)) throw new InvalidParameterError('show_foreign', 'is given more than once');
  const flag = typeof value === 'boolean' ? value : parseBooleanText(value);
  if (flag !== undefined) return flag ? { kind: 'all' } : { kind: 'none' };
  const account = normalizeUuid(value);
  if (account === null) {
    throw new InvalidParameterError(
      'show_foreign',
      `must be true, false or an account UUID, not ${quote(value)}`,
    );
  }
  return { kind: 'account', account };
}

export interface ListedIdentity {
  row: IdentityRow;
  /** Owned by the caller's account. */
  personal: boolean;
  /** Personal entries show their `visibility`; foreign ones never do (a caller never learns another account's rule). */
  includeVisibility: boolean;
}

/**
 * The identities of one twin to list (rows must all be of `twin`; whether the caller may see the twin at all — the
 * 404 — is decided before). Personal rows: visible to the caller (role identity_rule included, expired allowed) and
 * passing both filter pairs. Foreign rows: visible to the caller (valid only) and in `show_foreign`.
 * Ordered for a stable response: the caller's own account first, then owners by UUID, names by code point.
 */
export function listIdentities(
  rows: readonly IdentityRow[],
  filters: IdentityListFilters,
  caller: Caller,
  twin: TwinFacts,
  now: number,
): ListedIdentity[] {
  const variables = new TwinVariablesCache(caller, now, (uuid) => (uuid === twin.uuid ? twin : undefined));
  const listed: ListedIdentity[] = [];
  for (const row of rows) {
    // A grant is never personal, even to an account that also owns the name upstream.
    const personal = row.owner === caller.account && row.grantee == null;
    if (personal ? !passesPersonalFilters(row, filters, now) : !passesForeignFilter(row, filters.showForeign))
      continue;
    if (!decideIdentity(caller, row, now, true, variables)) continue;
    listed.push({ row, personal, includeVisibility: personal });
  }
  return listed.sort((a, b) => compareListing(a, b));
}

/** The validity pair and the publicity pair of docs/visibility.md, both required. */
export function passesPersonalFilters(row: IdentityRow, filters: IdentityListFilters, now: number): boolean {
  if (!filters.showPersonal) return false;
  const validityShown = isValid(row, now) ? filters.showValid : filters.showExpired;
  const publicityShown = row.visibility !== null ? filters.showPublic : filters.showPrivate;
  return validityShown && publicityShown;
}

function passesForeignFilter(row: IdentityRow, foreign: ForeignFilter): boolean {
  return foreign.kind === 'all' || (foreign.kind === 'account' && foreign.account === row.owner);
}

function compareListing(a: ListedIdentity, b: ListedIdentity): number {
  if (a.personal !== b.personal) return a.personal ? -1 : 1;
  if (a.row.owner !== b.row.owner) return a.row.owner < b.row.owner ? -1 : 1;
  return a.row.name < b.row.name ? -1 : a.row.name > b.row.name ? 1 : 0;
}
