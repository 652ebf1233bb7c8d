import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/**
 * The credential an edge mirror puts in its webhook intake URL when it subscribes to its upstream's notifications
 * (the POSTs cannot carry X-Webhook-Token). Derived from TWINDEX_SECRET_KEY and the source, so the worker can build it
 * without the webhook token, which is stored only hashed; accepted by the intake besides that token.
 */
export class PushIntakeToken {
  private readonly key: Buffer;

  constructor(secretKey: string) {
    this.key = Buffer.from(hkdfSync('sha256', secretKey, 'twindex', 'sync-push-intake v1', 32));
  }

  for(source: string): string {
    return `twp_${createHmac('sha256', this.key).update(source).digest('base64url')}`;
  }

  matches(source: string, token: string): boolean {
    const expected = Buffer.from(this.for(source));
    const given = Buffer.from(token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}
