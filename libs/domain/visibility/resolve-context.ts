import type { ResolveContext } from '../model.js';
import { normalizeUuid } from '../identity/uuid.js';
import { InvalidParameterError, parseBooleanParameter, quote } from './query-parameters.js';

/** docs/resolution.md: a context list names at most 100 accounts. */
export const MAX_CONTEXT_ACCOUNTS = 100;

const PERSONAL: ResolveContext = Object.freeze({ kind: 'personal' });
const SYSTEM: ResolveContext = Object.freeze({ kind: 'system' });

/**
 * The `context` of /resolve: absent → personal; `personal`; `system`; one account UUID; or a list of them given as
 * repeated query parameters, comma-separated, or both (or a JSON array in POST /resolve). UUIDs are lowercased and
 * deduplicated; the 100-account limit counts distinct accounts. Keywords are matched in any letter case, like the
 * boolean parameters, and cannot be mixed into a list. Blanks around commas are tolerated; empty items are not.
 */
export function parseResolveContext(raw: unknown): ResolveContext {
  if (raw === undefined) return PERSONAL;
  const values = asStringList(raw);
  if (values.length === 1) {
    const keyword = values[0].toLowerCase();
    if (keyword === 'personal') return PERSONAL;
    if (keyword === 'system') return SYSTEM;
  }
  const accounts = new Set<string>();
  for (const value of values) {
    for (const item of value.split(',')) {
      const token = item.trim();
      const account = normalizeUuid(token);
      if (account === null) throw new InvalidParameterError('context', describeBadItem(token));
      accounts.add(account);
      if (accounts.size > MAX_CONTEXT_ACCOUNTS) {
        throw new InvalidParameterError('context', `names more than ${MAX_CONTEXT_ACCOUNTS} accounts`);
      }
    }
  }
  return { kind: 'accounts', accounts };
}

/** `details` of /resolve and /twins: true/false in any case, default false. */
export function parseDetails(raw: unknown): boolean {
  return parseBooleanParameter('details', raw, false);
}

function asStringList(raw: unknown): readonly string[] {
  if (typeof raw === 'string') return [raw];
  if (Array.isArray(raw) && raw.length > 0 && raw.every((v) => typeof v === 'string')) return raw;
  throw new InvalidParameterError(
    'context',
    'must be personal, system, an account UUID or a non-empty list of them',
  );
}

function describeBadItem(token: string): string {
  const keyword = token.toLowerCase();
  if (keyword === 'personal' || keyword === 'system') return `cannot combine ${keyword} with other values`;
  if (token === '') return 'has an empty item';
  return `item ${quote(token)} is not personal, system or an account UUID`;
}
