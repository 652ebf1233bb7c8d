import { storedRuleText } from './rule-cache.js';
import type { CompiledRule } from './rule-types.js';

/**
 * Read-time form of stored rule text: the compiled rule when this process has it, else one that compiles when first
 * evaluated, within the evaluating request's compile units (deferred-rule.ts) — loading rows never compiles.
 * Stored rules were validated when written; one that no longer compiles (an older grammar) fails closed: it is
 * true for nobody.
 */
export function storedRule(text: string | null): CompiledRule | null {
  return text === null ? null : storedRuleText(text);
}
