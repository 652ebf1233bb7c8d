import { badRequest } from '../../../libs/domain/errors.js';

/**
 * DICT for rules (docs/rules.md "Variables"): the X-TrustedTwin header holds either the JSON object itself (starts
 * with `{`) or standard base64 of its UTF-8 JSON, as Trusted Twin clients send it.
 */
export function parseTrustedTwinHeader(raw: string | string[]): Record<string, unknown> {
  const value = (Array.isArray(raw) ? raw[0] : raw).trim();
  let text = value;
  if (!value.startsWith('{')) {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) throw invalid();
    text = Buffer.from(value, 'base64').toString('utf8');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalid();
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalid();
  return parsed as Record<string, unknown>;
}

const invalid = () =>
  badRequest('invalid_header', 'X-TrustedTwin must be a JSON object, as text or standard base64');
