import { invalidActions } from '../../domain/access/permission-evaluation.js';
import { badRequest } from '../../domain/errors.js';
import { assertRuleText } from '../../domain/rules/index.js';

/** Role names need not be unique; their pattern is Trusted Twin's. */
export const ROLE_NAME_PATTERN = /^[0-9A-Za-z][0-9A-Za-z_ -]{0,30}[0-9A-Za-z]$/;

export function assertRoleName(name: string): void {
  if (!ROLE_NAME_PATTERN.test(name)) {
    throw badRequest(
      'invalid_name',
      `Role name '${name.slice(0, 40)}' does not match ${ROLE_NAME_PATTERN.source}`,
    );
  }
}

/**
 * `actions: null` stays null (an empty list); listed names must all be catalogue actions (`400 invalid_action`,
 * naming each). Repeats are dropped, first occurrence kept: they change nothing a statement means.
 */
export function normalizeActions(actions: readonly string[] | null | undefined): string[] | null {
  if (actions === null || actions === undefined) return null;
  const unknown = invalidActions(actions);
  if (unknown.length > 0) {
    const names = unknown.slice(0, 5).map((a) => `'${a.slice(0, 60)}'`);
    throw badRequest(
      'invalid_action',
      `Not in the action catalogue: ${names.join(', ')}${unknown.length > 5 ? ` and ${unknown.length - 5} more` : ''}`,
    );
  }
  return [...new Set(actions)];
}

/** Rules are compiled when written so that a role never holds a rule that cannot run (docs/rules.md "Errors"). */
export function assertRuleCompiles(
  text: string | null | undefined,
  attribute: 'twin_rule' | 'identity_rule' | 'entry_rule',
): void {
  if (text === null || text === undefined) return;
  assertRuleText(text, `rules.${attribute}`);
}
