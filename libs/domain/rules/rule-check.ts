import { badRequest } from '../errors.js';
import { checkRule } from './rule-compiler.js';
import { InvalidRuleError } from './rule-types.js';

/**
 * Write-time check of a rule text (docs/rules.md "Errors"), the one shared by identities, roles and imports: why it
 * cannot be stored, or null when it compiles. It checks without building (no regex program is made): a write of
 * hundreds of rules costs their parsing, not their compiling, which happens when a read needs it (issue #20). PostgreSQL text cannot hold NUL, so a rule containing one is refused here rather than at
 * insert. Each caller words the refusal its own way (an HTTP 400, an import line problem) and names the attribute.
 */
export function ruleTextProblem(text: string): string | null {
  const nul = text.indexOf('\u0000');
  if (nul >= 0) return `a rule cannot contain the NUL character (at position ${nul})`;
  try {
    checkRule(text);
    return null;
  } catch (e) {
    if (e instanceof InvalidRuleError) return `${e.message} (at position ${e.position})`;
    throw e;
  }
}

/** ruleTextProblem as the API's `400 invalid_rule`, naming the attribute that holds the rule. */
export function assertRuleText(text: string, attribute: string): void {
  const problem = ruleTextProblem(text);
  if (problem !== null) throw badRequest('invalid_rule', `${attribute}: ${problem}`);
}
