/**
 * What a user token may hand down to a token it mints (docs/access.md "User tokens"). A token minted from a token
 * is its child: it may hold only options its parent holds and may not live past its parent. Without this, a
 * short token holding only `create` could mint a child with `refresh` and refresh that child into a long-lived
 * one — a token without `refresh` must never lead to one that refreshes.
 */

export type TokenOption = 'create' | 'refresh';

/** The options a parent token holds in which to mint a token; `undefined` parent = minted from a secret. */
export interface TokenParent {
  options: readonly TokenOption[];
  validityTs: number;
}

/** The requested options the parent does not hold (each once, in request order); empty = may mint. */
export function optionsBeyondParent(
  parent: TokenParent | undefined,
  requested: readonly TokenOption[],
): TokenOption[] {
  if (parent === undefined) return [];
  return [...new Set(requested)].filter((o) => !parent.options.includes(o));
}

/** The latest expiry a child may have: its parent's, or none beyond the other caps when minted from a secret. */
export function childExpiryCap(parent: TokenParent | undefined): number | null {
  return parent === undefined ? null : parent.validityTs;
}
