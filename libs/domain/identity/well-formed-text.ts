/** With the `u` flag a surrogate pair is one code point, so this matches only a surrogate standing alone. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * Why a text cannot be stored, or null when it can. PostgreSQL text and jsonb hold neither NUL nor a lone UTF-16
 * surrogate (jsonb refuses both; text columns refuse NUL and would silently turn a surrogate into U+FFFD). JSON
 * allows both as escapes, so anything parsed from an outside answer is checked with this before it is written.
 */
export function textProblem(text: string): string | null {
  const nul = text.indexOf('\u0000');
  if (nul >= 0) return `contains the NUL character (at position ${nul})`;
  const lone = LONE_SURROGATE.exec(text);
  if (lone) return `contains a lone UTF-16 surrogate (at position ${lone.index}), which is not valid Unicode`;
  return null;
}

/** True when `value` (a parsed JSON value) holds a string or key that `textProblem` refuses. Iterative: any depth. */
export function holdsIllFormedText(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next === 'string') {
      if (textProblem(next) !== null) return true;
    } else if (Array.isArray(next)) {
      for (const child of next) pending.push(child);
    } else if (typeof next === 'object' && next !== null) {
      for (const [key, child] of Object.entries(next)) {
        if (textProblem(key) !== null) return true;
        pending.push(child);
      }
    }
  }
  return false;
}

/**
 * Outside text quoted in a report or a log line: short, and spelled in ASCII-safe JSON escapes, so a NUL or a lone
 * surrogate in what is being reported can never make the report itself unstorable.
 */
export function quoteForReport(text: string, max = 64): string {
  const cut = text.length > max ? `${text.slice(0, max)}…` : text;
  return JSON.stringify(cut);
}
