import fc from 'fast-check';
import type { BinaryOperator, LiteralValue, RuleNode } from './rule-ast.js';
import { compileRule, RULE_VARIABLE_NAMES } from './rule-compiler.js';
import { parseRule } from './rule-parser.js';
import { printRule, printString } from './rule-printer.js';
import { InvalidRuleError, type RuleVariables } from './rule-types.js';

// ---------------------------------------------------------------------------------------------------------------
// Generators

const BINARY_OPERATORS: readonly BinaryOperator[] = [
  'or',
  'and',
  '==',
  '!=',
  '<',
  '<=',
  '>',
  '>=',
  '=~',
  '!~',
  '=~~',
  '!~~',
  'in',
  'not in',
  '+',
  '-',
  '*',
  '/',
  '%',
  '**',
];

const trickyString = fc.string({
  unit: fc.constantFrom(
    'a',
    'Z',
    '"',
    "'",
    '\\',
    '\n',
    '\r',
    '\t',
    '\x00',
    '\x7f',
    '\u2028',
    'ż',
    '😀',
    ' ',
    '#',
  ),
  maxLength: 8,
});

const literalValue: fc.Arbitrary<LiteralValue> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.nat({ max: 1000 }),
  fc.double({ min: 0, noNaN: true, noDefaultInfinity: true }).map((n) => (Object.is(n, -0) ? 0 : n)),
  fc.string({ unit: 'binary', maxLength: 8 }),
  trickyString,
);

const attributeName = fc.oneof(
  fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,6}$/),
  fc.constantFrom('in', 'not', 'and', 'or', 'null', 'true', 'false', 'constructor', '__proto__'),
);

const { node: ruleNode } = fc.letrec<{ node: RuleNode }>((tie) => ({
  node: fc.oneof(
    { maxDepth: 5, depthSize: 'small', withCrossShrink: true },
    literalValue.map((value): RuleNode => ({ kind: 'literal', value, pos: 0 })),
    fc.constantFrom(...RULE_VARIABLE_NAMES).map((name): RuleNode => ({ kind: 'variable', name, pos: 0 })),
    fc.array(tie('node'), { maxLength: 3 }).map((items): RuleNode => ({ kind: 'array', items, pos: 0 })),
    fc
      .array(fc.record({ key: tie('node'), value: tie('node') }), { maxLength: 3 })
      .map((entries): RuleNode => ({ kind: 'mapping', entries, pos: 0 })),
    fc
      .tuple(tie('node'), attributeName, fc.boolean())
      .map(([object, name, safe]): RuleNode => ({ kind: 'attribute', object, name, safe, pos: 0 })),
    fc
      .tuple(tie('node'), tie('node'), fc.boolean())
      .map(([object, index, safe]): RuleNode => ({ kind: 'index', object, index, safe, pos: 0 })),
    fc
      .tuple(fc.constantFrom('-' as const, 'not' as const), tie('node'))
      .map(([op, operand]): RuleNode => ({ kind: 'unary', op, operand, pos: 0 })),
    fc
      .tuple(fc.constantFrom(...BINARY_OPERATORS), tie('node'), tie('node'))
      .map(([op, left, right]): RuleNode => ({ kind: 'binary', op, left, right, pos: 0 })),
    fc.tuple(tie('node'), tie('node'), tie('node')).map(([condition, then, otherwise]): RuleNode => ({
      kind: 'ternary',
      condition,
      then,
      otherwise,
      pos: 0,
    })),
  ),
}));

/** Values as rules see them: JSON from descriptions and headers. */
const jsonValue = fc.jsonValue({ maxDepth: 3 });

/** Anything at all, for "never throws". */
const anyVariables: fc.Arbitrary<RuleVariables> = fc.record(
  Object.fromEntries(RULE_VARIABLE_NAMES.map((name) => [name, fc.anything({ maxDepth: 3 })])),
  { requiredKeys: [] },
);

const jsonVariables: fc.Arbitrary<RuleVariables> = fc.record({
  account: fc.oneof(fc.uuid(), fc.constant(null)),
  now: fc.oneof(fc.integer(), fc.constant(null)),
  twin_status: fc.constantFrom('alive', 'terminated'),
  TWIN: fc.dictionary(fc.constantFrom('kind', 'a', 'b', 'in'), jsonValue, { maxKeys: 3 }),
  DICT: fc.dictionary(fc.constantFrom('site', 'a', 'x'), jsonValue, { maxKeys: 3 }),
});

const TOKENS = [
  ...RULE_VARIABLE_NAMES,
  'foo',
  'x',
  'and',
  'or',
  'not',
  'in',
  'true',
  'false',
  'null',
  '1',
  '0',
  '2.5',
  '1e3',
  '"a"',
  "'b'",
  '"\\d+"',
  '"("',
  '"',
  "'",
  '\\',
  '==',
  '!=',
  '<',
  '<=',
  '>',
  '>=',
  '=~',
  '!~',
  '=~~',
  '!~~',
  '+',
  '-',
  '*',
  '/',
  '%',
  '**',
  '//',
  '(',
  ')',
  '[',
  ']',
  '{',
  '}',
  ',',
  ':',
  '?',
  '.',
  '&.',
  '&[',
  '&',
  '|',
  '=',
  '!',
  '$',
  '#',
  ' ',
];

/** A valid rule with a token spliced in: mostly-valid texts that reach deep into the parser's error paths. */
const mutatedRule = fc
  .tuple(ruleNode.map(printRule), fc.nat(), fc.nat({ max: 3 }), fc.constantFrom(...TOKENS))
  .map(([text, at, remove, token]) => {
    const i = at % (text.length + 1);
    return text.slice(0, i) + token + text.slice(i + remove);
  });

const tokenSoup = fc
  .tuple(fc.array(fc.constantFrom(...TOKENS), { maxLength: 25 }), fc.constantFrom('', ' '))
  .map(([tokens, separator]) => tokens.join(separator));

// ---------------------------------------------------------------------------------------------------------------
// Reference semantics, written independently of the implementation

function pyTruthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

function canonical(v: unknown): string {
  return JSON.stringify(v, (_key, value: unknown) =>
    value !== null && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : value,
  );
}

function withoutPositions(node: RuleNode): unknown {
  return JSON.parse(JSON.stringify(node, (key, value: unknown) => (key === 'pos' ? undefined : value)));
}

/** Prints a JSON value as a rule literal. */
function literal(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return printString(v);
  if (typeof v === 'number') return v < 0 || Object.is(v, -0) ? `(-${String(-v)})` : String(v);
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(literal).join(', ')}]`;
  return `{${Object.entries(v as Record<string, unknown>)
    .map(([k, x]) => `${printString(k)}: ${literal(x)}`)
    .join(', ')}}`;
}

function compileOrNull(text: string): ReturnType<typeof compileRule> | null {
  try {
    return compileRule(text);
  } catch (e) {
    if (e instanceof InvalidRuleError) return null;
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------------------------

describe('properties', () => {
  it('print then parse gives the same tree', () => {
    fc.assert(
      fc.property(ruleNode, (ast) => {
        const text = printRule(ast);
        expect(withoutPositions(parseRule(text))).toEqual(withoutPositions(ast));
      }),
      { numRuns: 2000 },
    );
  });

  it('parse, print, parse is stable on any text that parses', () => {
    fc.assert(
      fc.property(fc.oneof(tokenSoup, mutatedRule), (text) => {
        let ast: RuleNode;
        try {
          ast = parseRule(text);
        } catch (e) {
          expect(e).toBeInstanceOf(InvalidRuleError);
          return;
        }
        const printed = printRule(ast);
        expect(withoutPositions(parseRule(printed))).toEqual(withoutPositions(ast));
        expect(printRule(parseRule(printed))).toBe(printed);
      }),
      { numRuns: 3000 },
    );
  });

  it('compile throws nothing but InvalidRuleError, with a position inside the text', () => {
    const check = (text: string): void => {
      try {
        const rule = compileRule(text);
        expect(rule.source).toBe(text);
      } catch (e) {
        expect(e).toBeInstanceOf(InvalidRuleError);
        const position = (e as InvalidRuleError).position;
        expect(Number.isInteger(position) && position >= 0 && position <= text.length).toBe(true);
      }
    };
    fc.assert(fc.property(fc.string({ maxLength: 60 }), check), { numRuns: 2000 });
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 60 }), check), { numRuns: 1000 });
    fc.assert(fc.property(tokenSoup, check), { numRuns: 5000 });
    fc.assert(fc.property(mutatedRule, check), { numRuns: 3000 });
    fc.assert(fc.property(ruleNode.map(printRule), check), { numRuns: 1000 });
  });

  it('evaluate never throws and agrees with explain, whatever the variables hold', () => {
    fc.assert(
      fc.property(ruleNode, fc.oneof(anyVariables, jsonVariables), (ast, vars) => {
        const rule = compileOrNull(printRule(ast));
        if (rule === null) return;
        const result = rule.evaluate(vars);
        expect(typeof result).toBe('boolean');
        expect(rule.explain(vars).result).toBe(result);
        // The reused evaluation state leaves nothing behind.
        expect(rule.evaluate(vars)).toBe(result);
      }),
      { numRuns: 3000 },
    );
  });

  it('variables lists exactly the variables that occur in the tree', () => {
    const collect = (node: RuleNode, out: Set<string>): Set<string> => {
      if (node.kind === 'variable') out.add(node.name);
      for (const value of Object.values(node)) {
        if (Array.isArray(value)) {
          for (const v of value as unknown[]) {
            if (v !== null && typeof v === 'object' && 'kind' in v) collect(v as RuleNode, out);
            else if (v !== null && typeof v === 'object' && 'key' in v) {
              const entry = v as { key: RuleNode; value: RuleNode };
              collect(entry.key, out);
              collect(entry.value, out);
            }
          }
        } else if (value !== null && typeof value === 'object' && 'kind' in value) {
          collect(value as RuleNode, out);
        }
      }
      return out;
    };
    fc.assert(
      fc.property(ruleNode, (ast) => {
        const rule = compileOrNull(printRule(ast));
        if (rule === null) return;
        expect([...rule.variables].sort()).toEqual([...collect(ast, new Set())].sort());
      }),
      { numRuns: 1000 },
    );
  });

  it('arithmetic on numbers matches JS, and fails where JS would not give a finite number', () => {
    const number = fc.oneof(
      fc.integer({ min: -1000, max: 1000 }),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
    );
    fc.assert(
      fc.property(fc.constantFrom('+', '-', '*', '/', '%', '**'), number, number, (op, a, b) => {
        const js: Record<string, (x: number, y: number) => number> = {
          '+': (x, y) => x + y,
          '-': (x, y) => x - y,
          '*': (x, y) => x * y,
          '/': (x, y) => x / y,
          '%': (x, y) => x % y,
          '**': (x, y) => x ** y,
        };
        const expected = js[op](a, b);
        const valid = Number.isFinite(expected) && !((op === '/' || op === '%') && b === 0);
        for (const text of [`DICT.a ${op} DICT.b`, `${literal(a)} ${op} ${literal(b)}`]) {
          const outcome = compileRule(text).explain({ DICT: { a, b } });
          if (valid) expect(outcome).toMatchObject({ ok: true, value: expected });
          else expect(outcome.ok).toBe(false);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('number literals read back as the same number', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, noNaN: true, noDefaultInfinity: true }), (n) => {
        expect(compileRule(String(n)).explain({})).toMatchObject({
          ok: true,
          value: Object.is(n, -0) ? 0 : n,
        });
      }),
    );
  });

  it('string literals read back as the same string', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), trickyString), (s) => {
        expect(compileRule(printString(s)).explain({})).toMatchObject({ ok: true, value: s });
      }),
    );
  });

  it('not x is the negation of Python truthiness', () => {
    fc.assert(
      fc.property(jsonValue, (x) => {
        expect(compileRule('not DICT.x').evaluate({ DICT: { x } })).toBe(!pyTruthy(x));
        expect(compileRule('DICT.x').evaluate({ DICT: { x } })).toBe(pyTruthy(x));
        expect(compileRule(`not ${literal(x)}`).evaluate({})).toBe(!pyTruthy(x));
      }),
      { numRuns: 2000 },
    );
  });

  it('== is deep equality, symmetric and reflexive, on JSON values', () => {
    fc.assert(
      fc.property(jsonValue, jsonValue, (a, b) => {
        const eq = compileRule('DICT.a == DICT.b');
        expect(eq.evaluate({ DICT: { a, b } })).toBe(canonical(a) === canonical(b));
        expect(eq.evaluate({ DICT: { a: b, b: a } })).toBe(canonical(a) === canonical(b));
        expect(eq.evaluate({ DICT: { a, b: a } })).toBe(true);
        expect(compileRule('DICT.a != DICT.b').evaluate({ DICT: { a, b } })).toBe(
          canonical(a) !== canonical(b),
        );
        expect(compileRule(`${literal(a)} == DICT.a`).evaluate({ DICT: { a } })).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('x in array matches includes (primitives) and deep equality (any JSON)', () => {
    const primitive = fc.oneof(
      fc.constant(null),
      fc.boolean(),
      fc.integer({ min: -3, max: 3 }),
      fc.constantFrom('a', 'b', ''),
    );
    fc.assert(
      fc.property(primitive, fc.array(primitive, { maxLength: 6 }), (x, items) => {
        const expected = items.includes(x);
        expect(compileRule(`${literal(x)} in ${literal(items)}`).evaluate({})).toBe(expected);
        expect(compileRule(`${literal(x)} not in ${literal(items)}`).evaluate({})).toBe(!expected);
        expect(compileRule('DICT.x in DICT.items').evaluate({ DICT: { x, items } })).toBe(expected);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(jsonValue, fc.array(jsonValue, { maxLength: 4 }), (x, items) => {
        const expected = items.some((item) => canonical(item) === canonical(x));
        expect(compileRule('DICT.x in DICT.items').evaluate({ DICT: { x, items } })).toBe(expected);
        expect(compileRule(`DICT.x in ${literal(items)}`).evaluate({ DICT: { x } })).toBe(expected);
      }),
      { numRuns: 1000 },
    );
  });

  it('x in string is substring, x in mapping is key membership', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 3 }),
        fc.string({ maxLength: 10 }),
        fc.dictionary(fc.string(), fc.nat()),
        (x, s, m) => {
          expect(compileRule('DICT.x in DICT.s').evaluate({ DICT: { x, s } })).toBe(s.includes(x));
          expect(compileRule('DICT.x in DICT.m').evaluate({ DICT: { x, m } })).toBe(Object.hasOwn(m, x));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('string order is code point order', () => {
    const cp = (s: string): number[] => Array.from(s, (c) => c.codePointAt(0) ?? 0);
    const reference = (a: string, b: string): number => {
      const x = cp(a);
      const y = cp(b);
      for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
      return x.length - y.length;
    };
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 4 }),
        fc.string({ unit: 'binary', maxLength: 4 }),
        (a, b) => {
          const r = reference(a, b);
          expect(compileRule('DICT.a < DICT.b').evaluate({ DICT: { a, b } })).toBe(r < 0);
          expect(compileRule('DICT.a >= DICT.b').evaluate({ DICT: { a, b } })).toBe(r >= 0);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('and / or / ternary follow truthiness', () => {
    fc.assert(
      fc.property(jsonValue, jsonValue, (a, b) => {
        const vars = { DICT: { a, b } };
        expect(compileRule('DICT.a and DICT.b').evaluate(vars)).toBe(pyTruthy(a) && pyTruthy(b));
        expect(compileRule('DICT.a or DICT.b').evaluate(vars)).toBe(pyTruthy(a) || pyTruthy(b));
        expect(compileRule('DICT.a ? true : false').evaluate(vars)).toBe(pyTruthy(a));
      }),
      { numRuns: 1000 },
    );
  });

  it('safe navigation is null on null and plain access otherwise', () => {
    fc.assert(
      fc.property(fc.oneof(fc.constant(null), fc.dictionary(fc.constantFrom('k', 'j'), jsonValue)), (x) => {
        const safe = compileRule('DICT.x&.k').explain({ DICT: { x } });
        const plain = compileRule('DICT.x.k').explain({ DICT: { x } });
        if (x === null) {
          expect(safe).toMatchObject({ ok: true, value: null });
          expect(plain.ok).toBe(false);
        } else {
          expect(safe).toEqual(plain);
        }
      }),
    );
  });
});
