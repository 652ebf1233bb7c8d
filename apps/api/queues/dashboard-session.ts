import { createHmac, timingSafeEqual } from 'node:crypto';

/** The cookie a browser holds after `/queues/login`. */
export const SESSION_COOKIE = 'twindex_queues';
/** Short-lived on purpose: the dashboard can retry, promote and delete every account's jobs. */
export const SESSION_TTL_MS = 15 * 60_000;

/**
 * Signs and checks dashboard session tokens: `<expiry ms>.<HMAC-SHA256 of it>`. The HMAC key is derived from the
 * operator key, so rotating TWINDEX_OPERATOR_KEY ends every session, and no other state is kept.
 */
export class DashboardSessions {
  private readonly key: Buffer;

  constructor(operatorKey: string) {
    this.key = createHmac('sha256', operatorKey).update('twindex queue dashboard session v1').digest();
  }

  issue(nowMs: number): { token: string; maxAgeSeconds: number } {
    const expires = String(nowMs + SESSION_TTL_MS);
    return { token: `${expires}.${this.sign(expires)}`, maxAgeSeconds: SESSION_TTL_MS / 1000 };
  }

  /** True for a token this key signed that has not expired yet. */
  verify(token: string | undefined, nowMs: number): boolean {
    if (!token) return false;
    const dot = token.indexOf('.');
    if (dot <= 0) return false;
    const expires = token.slice(0, dot);
    if (!/^\d{1,15}$/.test(expires) || Number(expires) <= nowMs) return false;
    const given = Buffer.from(token.slice(dot + 1), 'base64url');
    const expected = Buffer.from(this.sign(expires), 'base64url');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }
}

/** The value of one cookie in a `Cookie` header (no decoding: our token is base64url and digits). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** `Set-Cookie` for a session: HttpOnly, SameSite=Strict, scoped to the dashboard, Secure when served over TLS. */
export function sessionCookie(token: string, maxAgeSeconds: number, secure: boolean): string {
  return [
    `${SESSION_COOKIE}=${token}`,
    'Path=/queues',
    `Max-Age=${maxAgeSeconds}`,
    'HttpOnly',
    'SameSite=Strict',
    ...(secure ? ['Secure'] : []),
  ].join('; ');
}
