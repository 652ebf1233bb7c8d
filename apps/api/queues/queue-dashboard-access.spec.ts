import { cookieValue, DashboardSessions, SESSION_TTL_MS, sessionCookie } from './dashboard-session.js';

const KEY = 'operator-key-0123456789abcdef0123456789';

describe('dashboard sessions', () => {
  const sessions = new DashboardSessions(KEY);

  it('accepts a token it issued until it expires', () => {
    const { token, maxAgeSeconds } = sessions.issue(1_000);
    expect(maxAgeSeconds).toBe(SESSION_TTL_MS / 1000);
    expect(sessions.verify(token, 1_001)).toBe(true);
    expect(sessions.verify(token, 1_000 + SESSION_TTL_MS)).toBe(false);
  });

  it('refuses forged, altered and foreign tokens', () => {
    const { token } = sessions.issue(1_000);
    const [expires, mac] = token.split('.');
    expect(sessions.verify(`${Number(expires) + 60_000}.${mac}`, 1_001)).toBe(false);
    expect(sessions.verify(`${expires}.${mac.slice(0, -2)}AA`, 1_001)).toBe(false);
    expect(sessions.verify(`${expires}.`, 1_001)).toBe(false);
    expect(sessions.verify('garbage', 1_001)).toBe(false);
    expect(sessions.verify(undefined, 1_001)).toBe(false);
    // A rotated operator key ends every session.
    expect(new DashboardSessions(`${KEY}x`).verify(token, 1_001)).toBe(false);
  });

  it('reads one cookie among several and writes a strict one', () => {
    expect(cookieValue('a=1; twindex_queues=t.k; b=2', 'twindex_queues')).toBe('t.k');
    expect(cookieValue('xtwindex_queues=1', 'twindex_queues')).toBeUndefined();
    expect(cookieValue(undefined, 'twindex_queues')).toBeUndefined();
    const cookie = sessionCookie('t.k', 900, false);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).not.toContain('Secure');
    expect(sessionCookie('t.k', 900, true)).toContain('; Secure');
  });
});
