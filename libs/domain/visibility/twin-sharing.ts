import type { CompiledRule } from '../rules/rule-types.js';

/**
 * The operator's choice (TWIN_SHARING): `open` is Trusted Twin's behaviour — a role's twin_rule may make any
 * account's twins visible; `closed` is for mutually distrustful tenants — a caller sees its own account's twins
 * only, whatever its role's twin_rule says. Identities are unaffected: they stay visible per their own rules.
 */
export type TwinSharing = 'open' | 'closed';

export const TWIN_SHARING_MODES: readonly TwinSharing[] = ['open', 'closed'];

/** The twin_rule a caller is judged by: its role's under `open`, none (no foreign twins) under `closed`. */
export function twinRuleUnderSharing(
  roleTwinRule: CompiledRule | null,
  sharing: TwinSharing,
): CompiledRule | null {
  return sharing === 'closed' ? null : roleTwinRule;
}
