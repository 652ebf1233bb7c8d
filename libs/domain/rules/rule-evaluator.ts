/**
 * Turns a checked syntax tree into a tree of closures once, at compile time; evaluation then only calls them.
 * This is not `eval`: no text is ever turned into code, each closure is one of the fixed functions below.
 *
 * Every closure charges one step, and work proportional to data charges by its size: strings by length
 * (concatenation, comparison, `in`, hashing a key, indexing a string), arrays and mappings by items, regex
 * matching by its NFA steps. So the total work of one evaluation is bounded by its step limit whatever the rule
 * text and the variables hold (a 63 KB description costs what scanning it costs).
 */
import type { BinaryNode, RuleNode } from './rule-ast.js';
import { cachedPattern, RegexSyntaxError, REGEX_STEP_BUDGET, type RulePattern } from './rule-regex.js';
import type { RuleVariableName, RuleVariables } from './rule-types.js';
import {
  charge,
  chargeChars,
  deepEqual,
  fail,
  isMapping,
  order,
  truthy,
  typeName,
  type Budget,
} from './rule-values.js';

/**
 * The budget per evaluation is ours to choose (docs/rules.md "Limits" states it); nothing a 2,048-character rule does
 * over JSON-sized data needs more. Measured (rule-budget.spec.ts, 2 shared cores): an evaluation that spends the
 * whole budget takes about 100 µs, whatever it spends it on (closures, 320,000 characters of string work, regex
 * steps), at most ~0.3 ms.
 */
export const DEFAULT_STEP_BUDGET = 10_000;

/** NFA steps (thread × input position) of the regex matcher that cost one evaluator step (measured likewise). */
export const REGEX_STEPS_PER_STEP = 8;

/** Mutable per-evaluation state; one instance is reused by every evaluation of a compiled rule. */
export interface EvalState extends Budget {
  vars: RuleVariables;
  steps: number;
  limit: number;
  regexSteps: number;
}

export type Evaluator = (state: EvalState) => unknown;

export function newEvalState(limit: number = DEFAULT_STEP_BUDGET): EvalState {
  return { vars: {}, steps: 0, limit, regexSteps: REGEX_STEP_BUDGET };
}

function tick(state: EvalState): void {
  if (++state.steps > state.limit) fail('step budget exceeded');
}

/**
 * A literal, or an array or mapping built only from literals with string keys: its value is built once and
 * shared by every evaluation (nothing in the evaluator mutates values).
 */
function constantValue(node: RuleNode): { value: unknown } | null {
  switch (node.kind) {
    case 'literal':
      return { value: node.value };
    case 'array': {
      const items: unknown[] = [];
      for (const item of node.items) {
        const c = constantValue(item);
        if (c === null) return null;
        items.push(c.value);
      }
      return { value: Object.freeze(items) };
    }
    case 'mapping': {
      const mapping = Object.create(null) as Record<string, unknown>;
      for (const entry of node.entries) {
        const key = constantValue(entry.key);
        const value = constantValue(entry.value);
        if (key === null || value === null || typeof key.value !== 'string') return null;
        mapping[key.value] = value.value;
      }
      return { value: Object.freeze(mapping) };
    }
    default:
      return null;
  }
}

/**
 * Regex literals already compiled by whoever builds this rule (a background compile does them a few at a time,
 * deferred-rule.ts); the others come from the pattern cache. Set only for the duration of one synchronous build.
 */
let prebuiltPatterns: ReadonlyMap<string, RulePattern> | undefined;

/** buildEvaluator with some of the rule's regex literals compiled beforehand. */
export function buildEvaluatorWith(node: RuleNode, patterns: ReadonlyMap<string, RulePattern>): Evaluator {
  prebuiltPatterns = patterns;
  try {
    return buildEvaluator(node);
  } finally {
    prebuiltPatterns = undefined;
  }
}

export function buildEvaluator(node: RuleNode): Evaluator {
  const constant = constantValue(node);
  if (constant !== null) {
    const value = constant.value;
    return (s) => {
      tick(s);
      return value;
    };
  }
  switch (node.kind) {
    case 'literal':
      throw new Error('unreachable: literals are constant');
    case 'variable': {
      const name = node.name as RuleVariableName;
      return (s) => {
        tick(s);
        return s.vars[name] ?? null;
      };
    }
    case 'array': {
      const items = node.items.map(buildEvaluator);
      return (s) => {
        tick(s);
        const out = new Array<unknown>(items.length);
        for (let i = 0; i < items.length; i++) out[i] = items[i](s);
        return out;
      };
    }
    case 'mapping': {
      const entries = node.entries.map((e) => [buildEvaluator(e.key), buildEvaluator(e.value)] as const);
      return (s) => {
        tick(s);
        const out = Object.create(null) as Record<string, unknown>;
        for (const [key, value] of entries) {
          const k = key(s);
          if (typeof k !== 'string') fail(`mapping keys must be strings, not ${typeName(k)}`);
          chargeChars(s, k.length);
          out[k] = value(s);
        }
        return out;
      };
    }
    case 'attribute': {
      const object = buildEvaluator(node.object);
      const { name, safe } = node;
      return (s) => {
        tick(s);
        return attribute(object(s), name, safe);
      };
    }
    case 'index': {
      const object = buildEvaluator(node.object);
      const index = buildEvaluator(node.index);
      const safe = node.safe;
      return (s) => {
        tick(s);
        const target = object(s);
        // Safe navigation skips the subscript entirely, so `null&[x.y]` cannot fail on `x.y`.
        if (safe && (target === null || target === undefined)) return null;
        return item(target, index(s), s);
      };
    }
    case 'unary': {
      const operand = buildEvaluator(node.operand);
      if (node.op === 'not') {
        return (s) => {
          tick(s);
          return !truthy(operand(s));
        };
      }
      return (s) => {
        tick(s);
        const v = operand(s);
        if (typeof v !== 'number') fail(`cannot negate ${typeName(v)}`);
        return -v;
      };
    }
    case 'ternary': {
      const condition = buildEvaluator(node.condition);
      const then = buildEvaluator(node.then);
      const otherwise = buildEvaluator(node.otherwise);
      return (s) => {
        tick(s);
        return truthy(condition(s)) ? then(s) : otherwise(s);
      };
    }
    case 'binary':
      return buildBinary(node);
  }
}

function buildBinary(node: BinaryNode): Evaluator {
  const left = buildEvaluator(node.left);
  switch (node.op) {
    case 'and': {
      const right = buildEvaluator(node.right);
      return (s) => {
        tick(s);
        return truthy(left(s)) && truthy(right(s));
      };
    }
    case 'or': {
      const right = buildEvaluator(node.right);
      return (s) => {
        tick(s);
        return truthy(left(s)) || truthy(right(s));
      };
    }
    case 'in':
    case 'not in':
      return buildMembership(left, node);
    case '=~':
    case '!~':
    case '=~~':
    case '!~~':
      return buildRegex(left, node);
    default:
      break;
  }
  const right = buildEvaluator(node.right);
  switch (node.op) {
    case '==':
      return (s) => {
        tick(s);
        return deepEqual(left(s), right(s), s);
      };
    case '!=':
      return (s) => {
        tick(s);
        return !deepEqual(left(s), right(s), s);
      };
    case '<':
      return (s) => {
        tick(s);
        return order(left(s), right(s), s) < 0;
      };
    case '<=':
      return (s) => {
        tick(s);
        return order(left(s), right(s), s) <= 0;
      };
    case '>':
      return (s) => {
        tick(s);
        return order(left(s), right(s), s) > 0;
      };
    case '>=':
      return (s) => {
        tick(s);
        return order(left(s), right(s), s) >= 0;
      };
    case '+':
      return (s) => {
        tick(s);
        const a = left(s);
        const b = right(s);
        if (typeof a === 'string' && typeof b === 'string') {
          // V8 joins lazily, but whatever reads the result later walks all of it: charge the result's length.
          chargeChars(s, a.length + b.length);
          return a + b;
        }
        if (typeof a !== 'number' || typeof b !== 'number') operandError('+', a, b);
        return finite(a + b);
      };
    case '-':
      return (s) => {
        tick(s);
        const a = left(s);
        const b = right(s);
        if (typeof a !== 'number' || typeof b !== 'number') operandError('-', a, b);
        return finite(a - b);
      };
    case '*':
      return (s) => {
        tick(s);
        const a = left(s);
        const b = right(s);
        if (typeof a !== 'number' || typeof b !== 'number') operandError('*', a, b);
        return finite(a * b);
      };
    case '/':
      return (s) => {
        tick(s);
        const a = left(s);
        const b = right(s);
        if (typeof a !== 'number' || typeof b !== 'number') operandError('/', a, b);
        if (b === 0) fail('division by zero');
        return finite(a / b);
      };
    case '%':
      return (s) => {
        tick(s);
        const a = left(s);
        const b = right(s);
        if (typeof a !== 'number' || typeof b !== 'number') operandError('%', a, b);
        if (b === 0) fail('modulo by zero');
        // JS `%` takes the dividend's sign, like the Decimal numbers of rule-engine (not like Python floats).
        return finite(a % b);
      };
    case '**':
      return (s) => {
        tick(s);
        const a = left(s);
        const b = right(s);
        if (typeof a !== 'number' || typeof b !== 'number') operandError('**', a, b);
        return finite(a ** b);
      };
    default:
      throw new Error(`unreachable: operator ${JSON.stringify(node)}`);
  }
}

function operandError(op: string, a: unknown, b: unknown): never {
  return fail(`unsupported operand types for ${op}: ${typeName(a)} and ${typeName(b)}`);
}

/** Python raises on overflow and on complex results (`(-8) ** 0.5`) where JS yields Infinity or NaN. */
function finite(value: number): number {
  if (!Number.isFinite(value)) fail('arithmetic result is not a finite number');
  return value;
}

function attribute(target: unknown, name: string, safe: boolean): unknown {
  if (target === null || target === undefined) {
    if (safe) return null;
    fail(`cannot read attribute '${name}' of null`);
  }
  // Own properties only: `TWIN.constructor` must be null, not Object.
  if (isMapping(target)) return Object.hasOwn(target, name) ? (target[name] ?? null) : null;
  return fail(`cannot read attribute '${name}' of ${typeName(target)}`);
}

const SURROGATE = /[\uD800-\uDFFF]/;
/** Array.from over a string, per character, in units of a scan (measured). */
const ARRAY_FROM_COST = 16;

function item(target: unknown, key: unknown, s: EvalState): unknown {
  if (Array.isArray(target)) return target[position(target.length, key)] ?? null;
  if (typeof target === 'string') {
    // Python indexes code points; only strings with astral characters need the slow path. The test scans the
    // string; the slow path builds an array of its code points, several times the cost of a scan.
    chargeChars(s, target.length);
    if (!SURROGATE.test(target)) return target[position(target.length, key)];
    chargeChars(s, target.length * ARRAY_FROM_COST);
    const points = Array.from(target);
    return points[position(points.length, key)];
  }
  if (isMapping(target)) {
    if (typeof key !== 'string') fail(`mapping keys are strings, not ${typeName(key)}`);
    chargeChars(s, key.length);
    return Object.hasOwn(target, key) ? (target[key] ?? null) : null;
  }
  if (target === null || target === undefined) fail('cannot index null');
  return fail(`cannot index ${typeName(target)}`);
}

/** Python indexing: integers only, negative counts from the end, out of range is an error. */
function position(length: number, key: unknown): number {
  if (typeof key !== 'number' || !Number.isInteger(key))
    fail(`indices must be integers, not ${typeName(key)}`);
  const i = key < 0 ? key + length : key;
  if (i < 0 || i >= length) fail(`index ${key} out of range`);
  return i;
}

function buildMembership(left: Evaluator, node: BinaryNode): Evaluator {
  const negate = node.op === 'not in';
  const constant = constantValue(node.right);
  if (constant !== null && Array.isArray(constant.value)) {
    const items: readonly unknown[] = constant.value;
    // The common `account in ["…", "…"]`: primitives compare by value, and Set.has agrees with `==` on them.
    if (items.every((v) => v === null || typeof v !== 'object')) {
      const set = new Set(items);
      return (s) => {
        tick(s);
        const v = left(s) ?? null;
        // Set.has hashes a string the first time it sees it.
        if (typeof v === 'string') chargeChars(s, v.length);
        const found = (v === null || typeof v !== 'object') && set.has(v);
        return found !== negate;
      };
    }
  }
  const right = buildEvaluator(node.right);
  return (s) => {
    tick(s);
    const needle = left(s);
    return contains(right(s), needle, s) !== negate;
  };
}

function contains(container: unknown, needle: unknown, s: EvalState): boolean {
  if (Array.isArray(container)) {
    const items: readonly unknown[] = container;
    charge(s, items.length);
    if (needle === null || needle === undefined) {
      for (let i = 0; i < items.length; i++) if (items[i] === null || items[i] === undefined) return true;
      return false;
    }
    // `includes` would find NaN in [NaN]; `==` does not, as in Python. A string needle may be compared in full
    // with every item.
    if (typeof needle === 'string') chargeChars(s, items.length * needle.length);
    if (typeof needle !== 'object') return needle === needle && items.includes(needle);
    for (let i = 0; i < items.length; i++) if (deepEqual(needle, items[i], s)) return true;
    return false;
  }
  if (typeof container === 'string') {
    if (typeof needle !== 'string') fail(`'in <string>' requires a string, not ${typeName(needle)}`);
    chargeChars(s, container.length + needle.length);
    return container.includes(needle);
  }
  if (isMapping(container)) {
    if (typeof needle !== 'string') return false;
    chargeChars(s, needle.length);
    return Object.hasOwn(container, needle);
  }
  return fail(`cannot test membership in ${typeName(container)}`);
}

function buildRegex(left: Evaluator, node: BinaryNode): Evaluator {
  const full = node.op === '=~' || node.op === '!~';
  const negate = node.op === '!~' || node.op === '!~~';
  const right = node.right;
  const match = (pattern: RulePattern, subject: unknown, s: EvalState): boolean => {
    if (typeof subject !== 'string') fail(`regex operators need a string, not ${typeName(subject)}`);
    // The matcher's own budget is what is left of this evaluation's steps, in NFA steps; what it used is charged.
    const before = Math.min(s.regexSteps, (s.limit - s.steps) * REGEX_STEPS_PER_STEP);
    s.regexSteps = before;
    try {
      return (full ? pattern.fullMatch(subject, s) : pattern.search(subject, s)) !== negate;
    } finally {
      charge(s, Math.ceil((before - s.regexSteps) / REGEX_STEPS_PER_STEP));
    }
  };
  if (right.kind === 'literal' && typeof right.value === 'string') {
    // The compiler has already rejected invalid literal patterns, so this cannot throw.
    const pattern = prebuiltPatterns?.get(right.value) ?? cachedPattern(right.value);
    return (s) => {
      tick(s);
      return match(pattern, left(s), s);
    };
  }
  const source = buildEvaluator(right);
  return (s) => {
    tick(s);
    const subject = left(s);
    const text = source(s);
    if (typeof text !== 'string') fail(`regex pattern must be a string, not ${typeName(text)}`);
    // A pattern made at run time may have to be compiled (at most 256 characters): charged by length in full.
    charge(s, text.length);
    let pattern: RulePattern;
    try {
      pattern = cachedPattern(text);
    } catch (error) {
      if (error instanceof RegexSyntaxError) fail(`invalid regex: ${error.message}`);
      throw error;
    }
    return match(pattern, subject, s);
  };
}
