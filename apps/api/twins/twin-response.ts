import type { IndexedTwin } from '../../../libs/store/identity-index.js';

/** The twin object of docs/http.md "Twins". */
export interface TwinResponse {
  uuid: string;
  owner: string;
  status: 'alive' | 'terminated';
  description: Record<string, unknown>;
  updated_ts: number;
  creation_certificate: { uuid: string; creator: string; created_ts: number };
  termination_certificate?: { issuer: string; terminated_ts: number };
}

export function twinResponse(twin: IndexedTwin): TwinResponse {
  const out: TwinResponse = {
    uuid: twin.uuid,
    owner: twin.owner,
    status: twin.status,
    description: twin.description,
    updated_ts: twin.updatedTs,
    creation_certificate: { uuid: twin.uuid, creator: twin.creator, created_ts: twin.createdTs },
  };
  if (twin.terminatedTs !== null) {
    out.termination_certificate = { issuer: twin.terminator ?? twin.owner, terminated_ts: twin.terminatedTs };
  }
  return out;
}
