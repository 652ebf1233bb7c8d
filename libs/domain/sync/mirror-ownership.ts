/** A twin as it exists here: its owner, and the sync source that brought it (null: created through the API). */
export interface LocalTwin {
  owner: string;
  source: string | null;
}

/** What a source of `account` asks to write: twin `claimedOwner`'s data, and the account's identities on it. */
export interface MirrorClaim {
  source: string;
  account: string;
  claimedOwner: string;
}

/**
 * The account whose existence here decides the claim (see mirrorRefusal), or null when none does: the owner the
 * twin would get from this write, if that is a new owner other than the source's account.
 */
export function ownerToCheck(stored: LocalTwin | null, claim: MirrorClaim): string | null {
  if (!mayRewriteTwin(stored, claim.source)) return null;
  const owner = claim.claimedOwner;
  return owner !== claim.account && owner !== stored?.owner ? owner : null;
}

/**
 * Why a sync source may not write a twin (its row or any identity on it), or null when it may. Ownership is never
 * taken on trust from an upstream:
 * - a twin here under another account (created through the API, or brought by another source) is never changed,
 *   terminated or given identities by this source;
 * - a twin this source brought as its account's own may not be moved to another owner;
 * - a foreign owner is stored as upstream says only when no account here has that id.
 */
export function mirrorRefusal(
  stored: LocalTwin | null,
  claim: MirrorClaim,
  /** Whether the account `ownerToCheck` names exists here (it would see the twin as its own). */
  ownerExistsHere: boolean,
): string | null {
  if (stored !== null && stored.owner !== claim.account && stored.source !== claim.source) {
    return stored.source === null
      ? 'a twin of another account exists here (created through the API)'
      : 'a twin of another account exists here (brought by another source)';
  }
  if (stored !== null && stored.source === claim.source && stored.owner === claim.account) {
    if (claim.claimedOwner !== claim.account)
      return `upstream moved the twin to account ${claim.claimedOwner}`;
  }
  if (ownerToCheck(stored, claim) !== null && ownerExistsHere) {
    return `upstream names account ${claim.claimedOwner} as owner; that account exists here and would see the twin as its own`;
  }
  return null;
}

/** Whether the source may rewrite the twin's row itself (status, description, termination): only its own. */
export function mayRewriteTwin(stored: LocalTwin | null, source: string): boolean {
  return stored === null || stored.source === source;
}
