import type { TwindexConfig } from '../config/index.js';

/** This deployment as subscribers reach it (PUBLIC_URL, else this machine's port). */
export function publicBase(config: Pick<TwindexConfig, 'PUBLIC_URL' | 'PORT'>): string {
  return (config.PUBLIC_URL || `http://localhost:${config.PORT}`).replace(/\/+$/, '');
}

/**
 * The one URL of a subscription's token operations: GET confirms, PATCH refreshes, DELETE unsubscribes (Trusted
 * Twin's shape). The token is standard base64, so it is percent-encoded in the query.
 */
export function subscriptionUrl(base: string, account: string, token: string): string {
  return `${base}/notifications/webhooks/${account}?token=${encodeURIComponent(token)}`;
}
