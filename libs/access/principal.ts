import type { Caller } from '../domain/model.js';
import type { Statement } from '../domain/access/permission-evaluation.js';

/**
 * Everything one API key stands for, loaded in one query and cached by the key's hash.
 * `dict` is per request and is filled in from the X-TrustedTwin header, so a cached principal keeps it empty.
 */
export interface Principal extends Caller {
  accountName: string;
  userName: string;
  roleName: string;
  statement: Statement;
  /** Catalogue actions this principal may run: the role's statement OR any active assigned permission. */
  allowed: ReadonlySet<string>;
  fingerprint: string;
  secretValidityTs: number | null;
  /** Set when the request came with a user token (docs/access.md) rather than the secret it was minted from. */
  token?: PrincipalToken;
}

/** What a verified user token adds to its principal. */
export interface PrincipalToken {
  validityTs: number;
  options: ReadonlyArray<'create' | 'refresh'>;
  secretDict: Readonly<Record<string, unknown>>;
}
