import { compileRuleCached } from './rule-compiler.js';
import type { CompiledRule } from './rule-types.js';

let denyAll: CompiledRule | undefined;

/**
 * Read-time compile of stored rule text (through the rule cache, once per distinct text). Stored rules were
 * validated when written; one that no longer compiles (an older grammar) fails closed: it is true for nobody.
 */
export function storedRule(text: string | null): CompiledRule | null {
  if (text === null) return null;
  try {
    return compileRuleCached(text);
  } catch {
    denyAll ??= compileRuleCached('false');
    return denyAll;
  }
}
