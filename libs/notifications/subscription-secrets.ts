import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  encodeSubscriptionToken,
  type SubscriptionTokenParts,
} from '../domain/notifications/subscription-token.js';
import { SecretBox } from '../sync/secret-box.js';

const CLIENT_SECRET_LENGTH = 16;

/**
 * The secrets of a subscription, all derived from TWINDEX_SECRET_KEY so that nothing that grants access is stored in
 * the clear: the token's mac is HMAC(key, subscription|nonce) — the database keeps only SHA-256 of the token and the
 * nonce, and the worker re-derives the token when a message needs its refresh/unsubscribe URLs — and the hash key
 * (client_secret + server_secret) is sealed with AES-GCM bound to the subscription.
 */
export class SubscriptionSecrets {
  private readonly macKey: Buffer;
  private readonly box: SecretBox;

  constructor(secretKey: string) {
    this.macKey = Buffer.from(hkdfSync('sha256', secretKey, 'twindex', 'notification-token v1', 32));
    this.box = new SecretBox(secretKey);
  }

  static newNonce(): string {
    return randomBytes(16).toString('hex');
  }

  /** 32 URL-safe characters (192 random bits): with a 16-character client_secret, 48 key bytes (BLAKE2b takes 64). */
  static newServerSecret(): string {
    return randomBytes(24).toString('base64url');
  }

  token(subscription: string, account: string, nonce: string): string {
    return encodeSubscriptionToken({ subscription, account, nonce, mac: this.mac(subscription, nonce) });
  }

  /** Constant-time check that a parsed token's mac is the one this key gives (256 bits: unguessable). */
  macMatches(parts: SubscriptionTokenParts): boolean {
    const expected = Buffer.from(this.mac(parts.subscription, parts.nonce), 'hex');
    const given = Buffer.from(parts.mac, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  static tokenHash(token: string): Buffer {
    return createHash('sha256').update(token, 'utf8').digest();
  }

  sealHashKey(subscription: string, clientSecret: string, serverSecret: string): Buffer {
    return this.box.seal(clientSecret + serverSecret, context(subscription));
  }

  /** The client and server secrets of a sealed hash key. */
  openHashKey(subscription: string, sealed: Buffer): { clientSecret: string; serverSecret: string } {
    const plain = this.box.open(sealed, context(subscription));
    return {
      clientSecret: plain.slice(0, CLIENT_SECRET_LENGTH),
      serverSecret: plain.slice(CLIENT_SECRET_LENGTH),
    };
  }

  private mac(subscription: string, nonce: string): string {
    return createHmac('sha256', this.macKey).update(`${subscription}|${nonce}`).digest('hex');
  }
}

const context = (subscription: string) => `notification-subscription:${subscription}`;
