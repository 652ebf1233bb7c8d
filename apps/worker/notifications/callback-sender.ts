import { Agent, fetch as undiciFetch } from 'undici';
import { AddressRefused, type UpstreamAddressPolicy } from '../../../libs/sync/upstream-address.js';

/** docs/notifications.md: each POST gets 5 s, connect and answer included. */
export const CALLBACK_TIMEOUT_MS = 5_000;

export type CallbackOutcome =
  { ok: true; status: number } | { ok: false; status?: number; retryAfterSeconds?: number; error: string };

/**
 * POSTs JSON to a callback through the SSRF guard of sync sources: IP literals are checked before the request,
 * names at connect time by the agent's lookup, which pins the checked address. Redirects are not followed.
 */
export class CallbackSender {
  private readonly agent: Agent;

  constructor(
    private readonly addresses: UpstreamAddressPolicy,
    private readonly timeoutMs = CALLBACK_TIMEOUT_MS,
  ) {
    this.agent = new Agent({
      connect: { lookup: addresses.lookup, timeout: timeoutMs },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
  }

  async post(url: string, body: string): Promise<CallbackOutcome> {
    try {
      this.addresses.checkLiteral(new URL(url));
      const res = await undiciFetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'twindex-notifications' },
        body,
        redirect: 'manual',
        dispatcher: this.agent,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      // The body is not wanted; cancelling it frees the connection without waiting for a slow sender.
      await res.body?.cancel().catch(() => undefined);
      if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status };
      return {
        ok: false,
        status: res.status,
        retryAfterSeconds: retryAfter(res.headers.get('retry-after')),
        error: `HTTP ${res.status}`,
      };
    } catch (e) {
      const err = e as Error & { cause?: Error };
      const refused = err instanceof AddressRefused || err.cause instanceof AddressRefused;
      const reason = refused
        ? (err.cause ?? err).message
        : err.name === 'TimeoutError'
          ? 'timed out'
          : err.message;
      return { ok: false, error: reason.slice(0, 200) };
    }
  }

  async close(): Promise<void> {
    await this.agent.close().catch(() => undefined);
  }
}

function retryAfter(header: string | null): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, (date - Date.now()) / 1000);
}
