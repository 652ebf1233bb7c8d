import type { SecretRow } from '../../../../libs/access/secrets/secrets.repository.js';

/** What may be shown of one secret: never the secret itself, nor its hash. */
export interface SecretView {
  fingerprint: string;
  validity_ts: number | null;
  created_ts: number;
  updated_ts: number;
  last_used_ts: number | null;
}

/**
 * Trusted Twin keeps one secret per user; Twindex keeps several (rotation) and shows them as one: the newest
 * one's attributes, with every secret listed beside them, newest first (docs/access.md "User secrets (API keys)").
 */
export type UserSecretView = Omit<SecretRow, 'last_used_ts'> & { secrets: SecretView[] };

export function secretView(row: SecretRow): SecretView {
  return {
    fingerprint: row.fingerprint,
    validity_ts: row.validity_ts,
    created_ts: row.created_ts,
    updated_ts: row.updated_ts,
    last_used_ts: row.last_used_ts,
  };
}

/** `rows` newest first and not empty. */
export function userSecretView(rows: SecretRow[]): UserSecretView {
  const newest = rows[0];
  return {
    account: newest.account,
    user: newest.user,
    fingerprint: newest.fingerprint,
    validity_ts: newest.validity_ts,
    created_ts: newest.created_ts,
    updated_ts: newest.updated_ts,
    secrets: rows.map(secretView),
  };
}
