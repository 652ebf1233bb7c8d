import { blake2b } from '@noble/hashes/blake2.js';

/**
 * The JSON text a message's `hash` covers: keys sorted at every level, no whitespace, UTF-8 with non-ASCII characters
 * as they are (JSON.stringify escapes none). Arrays keep their order.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

/**
 * Hex BLAKE2b-256 of the message without `hash`, keyed with the UTF-8 bytes of client_secret followed by
 * server_secret (docs/notifications.md "Messages"). BLAKE2b keys are at most 64 bytes; ours are 16 + 32.
 */
export function messageHash(message: Record<string, unknown>, key: Uint8Array): string {
  const { hash: _ignored, ...rest } = message;
  const digest = blake2b(new TextEncoder().encode(canonicalJson(rest)), { dkLen: 32, key });
  return Buffer.from(digest).toString('hex');
}

export function hashKey(clientSecret: string, serverSecret: string): Uint8Array {
  return new TextEncoder().encode(clientSecret + serverSecret);
}
