import { badRequest } from '../../../libs/domain/errors.js';

/** With the `u` flag a surrogate pair is one code point, so this matches only a surrogate standing alone. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

function wellFormed(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

/**
 * The path (`a.b.3`) of a string or key of a parsed JSON value that is not well-formed UTF-16 (a lone surrogate
 * such as `"\ud800"`), or null when there is none. JSON allows such escapes, but text cannot be stored as UTF-8
 * with them: PostgreSQL's jsonb refuses them (a 500 after the fact) and text columns would silently get U+FFFD.
 * Checking every parsed body once, at the edge, spares each endpoint from having to remember it. Iterative, so
 * no nesting depth can overflow the stack.
 */
export function illFormedTextPath(root: unknown): string | null {
  // Each entry knows its parent; the path is spelled out only on failure, so a deep body costs linear time.
  interface Entry {
    value: unknown;
    key: string;
    parent: Entry | null;
  }
  const pending: Entry[] = [{ value: root, key: '', parent: null }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const value = next.value;
    if (typeof value === 'string') {
      if (!wellFormed(value)) return pathOf(next);
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--)
        pending.push({ value: value[i], key: String(i), parent: next });
      continue;
    }
    // Only what JSON.parse builds: a streamed body (imports) or any other object is not ours to walk.
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) continue;
    for (const key of Object.keys(value)) {
      if (!wellFormed(key)) return pathOf({ key: '(key)', parent: next });
      pending.push({ value: (value as Record<string, unknown>)[key], key, parent: next });
    }
  }
  return null;
}

function pathOf(entry: { key: string; parent: { key: string; parent: unknown } | null }): string {
  const keys: string[] = [];
  for (
    let e: typeof entry | null = entry;
    e !== null && e.parent !== null;
    e = e.parent as typeof entry | null
  )
    keys.push(e.key);
  return keys.length === 0 ? '(body)' : keys.reverse().join('.');
}

/** Throws `400 invalid_json` naming where a parsed body holds a lone surrogate. */
export function assertWellFormedBody(body: unknown): void {
  const path = illFormedTextPath(body);
  if (path !== null) {
    throw badRequest(
      'invalid_json',
      `${path}: text contains a lone UTF-16 surrogate (e.g. "\\ud800"), which is not valid Unicode`,
    );
  }
}
