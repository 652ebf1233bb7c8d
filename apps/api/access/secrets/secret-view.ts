import type { SecretRow } from './secrets.repository.js';

/** What may be shown of a secret: never the secret itself, nor its hash. */
export interface SecretView {
  fingerprint: string;
  validity_ts: number | null;
  created_ts: number;
  last_used_ts: number | null;
}

export function secretView(row: SecretRow): SecretView {
  return {
    fingerprint: row.fingerprint,
    validity_ts: row.validity_ts,
    created_ts: row.created_ts,
    last_used_ts: row.last_used_ts,
  };
}
