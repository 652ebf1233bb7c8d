/**
 * The bearer token of a subscription's confirm, refresh and unsubscribe URLs, in the shape Trusted Twin's clients
 * parse: standard base64 of four parts joined by `___`, the publishing account's UUID second. Ours are
 * `subscription uuid ___ account ___ nonce ___ mac` (nonce and mac in hex); only the mac is secret (docs/notifications.md "Tokens").
 */
export interface SubscriptionTokenParts {
  readonly subscription: string;
  readonly account: string;
  readonly nonce: string;
  readonly mac: string;
}

const SEPARATOR = '___';
const MAX_TOKEN_LENGTH = 512;
const STANDARD_BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// Hex only: an underscore beside the separator would make the split ambiguous.
const PART = /^[0-9a-f]{1,128}$/;

export function encodeSubscriptionToken(parts: SubscriptionTokenParts): string {
  for (const p of [parts.nonce, parts.mac]) {
    if (!PART.test(p)) throw new Error('token nonce and mac must be lowercase hex');
  }
  const text = [parts.subscription, parts.account, parts.nonce, parts.mac].join(SEPARATOR);
  return Buffer.from(text, 'utf8').toString('base64');
}

/** The parts of a well-formed token, or null for anything else (never throws: the input is a stranger's). */
export function parseSubscriptionToken(token: unknown): SubscriptionTokenParts | null {
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) return null;
  if (!STANDARD_BASE64.test(token) || token.length % 4 !== 0) return null;
  const parts = Buffer.from(token, 'base64').toString('utf8').split(SEPARATOR);
  if (parts.length !== 4) return null;
  const [subscription, account, nonce, mac] = parts;
  if (!UUID.test(subscription) || !UUID.test(account) || !PART.test(nonce) || !PART.test(mac)) return null;
  return { subscription, account, nonce, mac };
}
