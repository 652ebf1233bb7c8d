/**
 * Test-only builders for the visibility specs (no jest, no fast-check here, so it type-checks in the build too).
 * `fakeRule` stands in for the rule compiler, which is written in parallel: a CompiledRule whose evaluate is a
 * plain JS predicate over RuleVariables. Not used by the application.
 */
import type { Caller, IdentityRow, TwinFacts } from '../model.js';
import type { CompiledRule, RuleVariableName, RuleVariables } from '../rules/rule-types.js';

export const ACCOUNT_A = 'aaaaaaaa-0000-4000-8000-000000000001';
export const ACCOUNT_B = 'bbbbbbbb-0000-4000-8000-000000000002';
export const ACCOUNT_C = 'cccccccc-0000-4000-8000-000000000003';
export const TWIN_1 = '11111111-0000-4000-8000-000000000001';
export const TWIN_2 = '22222222-0000-4000-8000-000000000002';
export const TWIN_3 = '33333333-0000-4000-8000-000000000003';

export function fakeRule(
  source: string,
  predicate: (vars: RuleVariables) => boolean,
  variables: RuleVariableName[] = [],
): CompiledRule {
  return { source, variables: new Set(variables), evaluate: predicate };
}

export const TRUE_RULE = fakeRule('true', () => true);
export const FALSE_RULE = fakeRule('false', () => false);
export const THROWING_RULE = fakeRule('1/0', () => {
  throw new Error('rule blew up');
});

export function makeCaller(overrides: Partial<Caller> = {}): Caller {
  return {
    account: ACCOUNT_A,
    user: 'dddddddd-0000-4000-8000-00000000000a',
    role: 'eeeeeeee-0000-4000-8000-00000000000a',
    userDescription: { site: 'WAW' },
    dict: {},
    twinRule: null,
    identityRule: null,
    ...overrides,
  };
}

export function makeTwin(overrides: Partial<TwinFacts> = {}): TwinFacts {
  return {
    uuid: TWIN_1,
    owner: ACCOUNT_A,
    status: 'alive',
    description: { kind: 'pallet' },
    createdTs: 1000,
    ...overrides,
  };
}

export function makeRow(overrides: Partial<IdentityRow> = {}): IdentityRow {
  return {
    name: 'RFID#abc',
    twin: TWIN_1,
    owner: ACCOUNT_A,
    visibility: null,
    validityTs: null,
    twinCreatedTs: 1000,
    ...overrides,
  };
}

/** A function that records its calls (Jest's `jest` object is not a global under ESM, and a spy is all we need). */
export function recording<A extends unknown[], R>(
  fn: (...args: A) => R,
): ((...args: A) => R) & { calls: A[] } {
  const calls: A[] = [];
  const wrapped = (...args: A): R => {
    calls.push(args);
    return fn(...args);
  };
  return Object.assign(wrapped, { calls });
}
