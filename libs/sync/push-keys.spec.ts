import { hashKey, messageHash } from '../domain/notifications/message-hash.js';
import { hashesVerify } from './push-keys.js';

const KEY = hashKey('AAAAbbbbCCCCdddd', 'server-secret-of-the-upstream-xyz');
const OTHER = hashKey('AAAAbbbbCCCCdddd', 'another-server-secret-0123456789a');
const signed = (m: Record<string, unknown>, key = KEY) => ({ ...m, hash: messageHash(m, key) });
const message = { type: 'Notification', twin: '0b6c7c4e-5d0e-4c55-9a43-0c1d5e7b9a10', sequence: 3 };

describe('push message hashes at the intake', () => {
  it('accepts a message signed with one of the live keys', () => {
    expect(hashesVerify(signed(message), [OTHER, KEY])).toBe(true);
  });

  it('refuses a message whose hash is wrong or was made with another key', () => {
    expect(hashesVerify({ ...signed(message), sequence: 4 }, [KEY])).toBe(false);
    expect(hashesVerify(signed(message, OTHER), [KEY])).toBe(false);
    expect(hashesVerify(signed(message), [])).toBe(false);
  });

  it('checks every message of a batch', () => {
    const good = signed(message);
    const bad = { ...signed({ ...message, sequence: 4 }), sequence: 5 };
    expect(hashesVerify({ type: 'Notifications', notifications: [good, good] }, [KEY])).toBe(true);
    expect(hashesVerify({ type: 'Notifications', notifications: [good, bad] }, [KEY])).toBe(false);
  });

  it('leaves messages without a hash to the token (a subscription made without a client_secret)', () => {
    expect(hashesVerify(message, [KEY])).toBe(true);
    expect(hashesVerify([{ twin: message.twin }], [])).toBe(true);
  });
});
