import { badRequest } from '../../../libs/domain/errors.js';
import { compileRuleCached } from '../../../libs/domain/rules/index.js';
import { InvalidRuleError } from '../../../libs/domain/rules/rule-types.js';

/**
 * Write-time check of a visibility rule (rules.md): a rule that does not compile is `400 invalid_rule` with the
 * position. The compiled form lands in the rule cache, so the first resolution that needs it does not compile again.
 * PostgreSQL text cannot hold NUL, so a rule containing one is refused here rather than failing at insert.
 */
export function assertValidRuleText(text: string, attribute: string): void {
  if (text.includes('\u0000'))
    throw badRequest('invalid_rule', `${attribute}: a rule cannot contain the NUL character`);
  try {
    compileRuleCached(text);
  } catch (e) {
    if (e instanceof InvalidRuleError) {
      throw badRequest('invalid_rule', `${attribute}: ${e.message} (at position ${e.position})`);
    }
    throw e;
  }
}

/** Read-time compile of stored rule text (fails closed); lives in the domain so the index can compile once at load. */
export { storedRule } from '../../../libs/domain/rules/stored-rule.js';
