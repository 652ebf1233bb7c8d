import { Agent, fetch as undiciFetch } from 'undici';
import type { UpstreamAddressPolicy } from './upstream-address.js';

const CONFIRM_TIMEOUT_MS = 5_000;

/**
 * A subscription confirmation an upstream (another Twindex, or Trusted Twin) sent to a source's webhook intake:
 * `{"type": "SubscriptionConfirmation", "confirmation_url", …}` (docs/notifications.md).
 */
export function confirmationUrlIn(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const b = body as { type?: unknown; confirmation_url?: unknown };
  return b.type === 'SubscriptionConfirmation' && typeof b.confirmation_url === 'string'
    ? b.confirmation_url
    : undefined;
}

/**
 * Confirms an upstream subscription by GETting its confirmation URL — only on the source's own upstream origin (a
 * body naming any other host is refused, so the intake cannot be used to make Twindex call elsewhere), through the
 * sync sources' SSRF guard, without following redirects, in at most 5 s. Returns the HTTP status.
 */
export class UpstreamConfirmation {
  private readonly agent: Agent;

  constructor(private readonly addresses: UpstreamAddressPolicy) {
    this.agent = new Agent({ connect: { lookup: addresses.lookup, timeout: CONFIRM_TIMEOUT_MS } });
  }

  static sameOrigin(url: string, baseUrl: string): boolean {
    try {
      return new URL(url).origin === new URL(baseUrl).origin;
    } catch {
      return false;
    }
  }

  async confirm(url: string): Promise<number> {
    this.addresses.checkLiteral(new URL(url));
    const res = await undiciFetch(url, {
      method: 'GET',
      redirect: 'manual',
      dispatcher: this.agent,
      signal: AbortSignal.timeout(CONFIRM_TIMEOUT_MS),
    });
    await res.body?.cancel().catch(() => undefined);
    return res.status;
  }

  async close(): Promise<void> {
    await this.agent.close().catch(() => undefined);
  }
}
