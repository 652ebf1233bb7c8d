/**
 * The value model of rule evaluation. Values are plain JSON-ish JS values (variables arrive as parsed JSON):
 * `undefined` counts as null, arrays are arrays, any other object is a mapping of its own enumerable keys.
 * Everything here throws RuleEvaluationError on a type error; the compiled rule turns that into `false`.
 */

/**
 * Any runtime failure of a rule. Deliberately not an Error: type errors are routine on the hot path (a twin
 * without the attribute a role rule compares), and constructing an Error captures a stack trace, which costs
 * about fifty times more than evaluating a typical rule. It never escapes `CompiledRule.evaluate`; `explain`
 * reports its message.
 */
export class RuleEvaluationError {
  readonly name = 'RuleEvaluationError';

  constructor(readonly message: string) {}

  toString(): string {
    return `${this.name}: ${this.message}`;
  }
}

export function fail(message: string): never {
  // eslint-disable-next-line @typescript-eslint/only-throw-error -- deliberately not an Error (see above)
  throw new RuleEvaluationError(message);
}

export type ValueKind = 'null' | 'boolean' | 'number' | 'string' | 'array' | 'mapping' | 'other';

export type Mapping = Readonly<Record<string, unknown>>;

/** Step accounting shared by one evaluation. Not reentrant: evaluation is synchronous and calls nothing external. */
export interface Budget {
  steps: number;
  limit: number;
}

export function charge(budget: Budget, steps: number): void {
  budget.steps += steps;
  if (budget.steps > budget.limit) fail('step budget exceeded');
}

/**
 * Characters of native string work (scanning, comparing for equality, hashing, copying) that cost one step.
 * Calibrated with rule-budget.spec.ts's measurement: V8 does about 32 characters of such work in the time of an
 * average evaluator step (a closure call, ~30 ns on the shared 2-core machine).
 */
export const CHARS_PER_STEP = 32;
/** Ordering compares code points in a JS loop (compareStrings): measured ~7× slower per character than native. */
const ORDER_COST = 8;

/** Charges work proportional to `chars` characters; strings shorter than CHARS_PER_STEP ride on the node's step. */
export function chargeChars(budget: Budget, chars: number): void {
  if (chars >= CHARS_PER_STEP) charge(budget, Math.floor(chars / CHARS_PER_STEP));
}

/** Deep equality recurses; JSON from a header can be nested far deeper than any rule needs to compare. */
const MAX_VALUE_DEPTH = 128;

export function kindOf(value: unknown): ValueKind {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'boolean':
      return 'boolean';
    case 'number':
      return 'number';
    case 'string':
      return 'string';
    case 'object':
      return Array.isArray(value) ? 'array' : 'mapping';
    default:
      return 'other';
  }
}

export function isMapping(value: unknown): value is Mapping {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Python truthiness: null, false, 0, "", [] and {} are false. */
export function truthy(value: unknown): boolean {
  if (value === true) return true;
  if (value === false || value === null || value === undefined) return false;
  switch (typeof value) {
    case 'number':
      return value !== 0;
    case 'string':
      return value.length > 0;
    case 'object':
      if (Array.isArray(value)) return value.length > 0;
      for (const key in value) if (Object.hasOwn(value, key)) return true;
      return false;
    default:
      fail(`unsupported value of type ${typeof value}`);
  }
}

export function typeName(value: unknown): string {
  return kindOf(value);
}

/**
 * `==` across every type: unlike types are unequal (no `1 == true`, stricter than Python, because fail-closed
 * rules should not depend on coercions), arrays and mappings compare deeply and order-insensitively for keys.
 */
export function deepEqual(a: unknown, b: unknown, budget: Budget, depth = 0): boolean {
  // Equal but distinct strings compare character by character.
  if (typeof a === 'string' && typeof b === 'string') {
    chargeChars(budget, Math.min(a.length, b.length));
    return a === b;
  }
  if (a === b) return true;
  const kind = kindOf(a);
  if (kind !== kindOf(b)) return false;
  if (kind === 'null') return true;
  if (kind === 'array') {
    const x = a as readonly unknown[];
    const y = b as readonly unknown[];
    if (x.length !== y.length) return false;
    if (depth >= MAX_VALUE_DEPTH) fail('value nested too deeply');
    charge(budget, x.length);
    for (let i = 0; i < x.length; i++) if (!deepEqual(x[i], y[i], budget, depth + 1)) return false;
    return true;
  }
  if (kind === 'mapping') {
    const x = a as Mapping;
    const y = b as Mapping;
    if (depth >= MAX_VALUE_DEPTH) fail('value nested too deeply');
    let count = 0;
    for (const key in x) {
      if (!Object.hasOwn(x, key)) continue;
      count++;
      charge(budget, 1);
      chargeChars(budget, key.length);
      if (!Object.hasOwn(y, key) || !deepEqual(x[key], y[key], budget, depth + 1)) return false;
    }
    for (const key in y) if (Object.hasOwn(y, key)) count--;
    return count === 0;
  }
  return false;
}

/** Orders strings by code point, as Python does, rather than by UTF-16 unit as JS `<` does. */
export function compareStrings(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointOrderKey(x) - codePointOrderKey(y);
  }
  return a.length - b.length;
}

/** Moves surrogates (astral code points) above U+E000–U+FFFF so unit-wise comparison follows code points. */
function codePointOrderKey(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit >= 0xe000 ? unit - 0x800 : unit + 0x2000;
}

/**
 * Three-way order for `< <= > >=`: negative, zero, positive, or NaN when unordered (a NaN operand), which makes
 * every ordering comparison false as in Python. Only number–number and string–string are ordered.
 */
export function order(a: unknown, b: unknown, budget: Budget): number {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : a === b ? 0 : NaN;
  if (typeof a === 'string' && typeof b === 'string') {
    chargeChars(budget, Math.min(a.length, b.length) * ORDER_COST);
    return compareStrings(a, b);
  }
  fail(`cannot order ${typeName(a)} and ${typeName(b)}`);
}
