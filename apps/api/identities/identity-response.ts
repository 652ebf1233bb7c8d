import type { StoredIdentity } from '../../../libs/store/identity.repository.js';
import type { ListedStoredIdentity } from './identities.service.js';

/** A personal identity as GET /twins/{twin}/identities/{identity} shows it. */
export interface IdentityResponse {
  visibility: string | null;
  validity_ts: number | null;
  created_ts: number;
  updated_ts: number;
  creation_certificate: { identity: string; twin: string; created_ts: number; creator: string };
}

/** A listing entry: personal entries show `visibility`, foreign ones never do. */
export interface ListedIdentityResponse {
  visibility?: string | null;
  validity_ts: number | null;
  created_ts: number;
  updated_ts: number;
}

export function identityResponse(identity: StoredIdentity): IdentityResponse {
  return {
    visibility: identity.visibility,
    validity_ts: identity.validityTs,
    created_ts: identity.createdTs,
    updated_ts: identity.updatedTs,
    creation_certificate: {
      identity: identity.name,
      twin: identity.twin,
      created_ts: identity.createdTs,
      creator: identity.creator,
    },
  };
}

/** `{"identities": {name: identity}}`; a null-prototype map so no name can collide with Object.prototype. */
export function identitiesResponse(identities: readonly StoredIdentity[]): {
  identities: Record<string, IdentityResponse>;
} {
  const out: Record<string, IdentityResponse> = Object.create(null) as Record<string, IdentityResponse>;
  for (const identity of identities) out[identity.name] = identityResponse(identity);
  return { identities: out };
}

/** `{"accounts": {account: {name: entry}}}` in the listing's order (own account first). */
export function listingResponse(listed: readonly ListedStoredIdentity[]): {
  accounts: Record<string, Record<string, ListedIdentityResponse>>;
} {
  const accounts: Record<string, Record<string, ListedIdentityResponse>> = {};
  for (const { identity, personal } of listed) {
    const entry: ListedIdentityResponse = personal
      ? {
          visibility: identity.visibility,
          validity_ts: identity.validityTs,
          created_ts: identity.createdTs,
          updated_ts: identity.updatedTs,
        }
      : { validity_ts: identity.validityTs, created_ts: identity.createdTs, updated_ts: identity.updatedTs };
    (accounts[identity.owner] ??= {})[identity.name] = entry;
  }
  return { accounts };
}
