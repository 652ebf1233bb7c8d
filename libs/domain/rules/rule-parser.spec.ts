import type { RuleNode } from './rule-ast.js';
import { MAX_RULE_DEPTH, parseRule } from './rule-parser.js';
import { InvalidRuleError } from './rule-types.js';

/** Fully parenthesised form: makes precedence and associativity visible. */
function shape(node: RuleNode): string {
  switch (node.kind) {
    case 'literal':
      return typeof node.value === 'string' ? JSON.stringify(node.value) : String(node.value);
    case 'variable':
      return node.name;
    case 'array':
      return `[${node.items.map(shape).join(', ')}]`;
    case 'mapping':
      return `{${node.entries.map((e) => `${shape(e.key)}: ${shape(e.value)}`).join(', ')}}`;
    case 'attribute':
      return `${shape(node.object)}${node.safe ? '&.' : '.'}${node.name}`;
    case 'index':
      return `${shape(node.object)}${node.safe ? '&[' : '['}${shape(node.index)}]`;
    case 'unary':
      return `(${node.op === 'not' ? 'not ' : '-'}${shape(node.operand)})`;
    case 'binary':
      return `(${shape(node.left)} ${node.op} ${shape(node.right)})`;
    case 'ternary':
      return `(${shape(node.condition)} ? ${shape(node.then)} : ${shape(node.otherwise)})`;
  }
}

function errorOf(text: string, maxDepth?: number): { message: string; position: number } {
  try {
    parseRule(text, maxDepth);
  } catch (e) {
    if (e instanceof InvalidRuleError) return { message: e.message, position: e.position };
    throw e;
  }
  throw new Error(`expected ${text} to fail`);
}

describe('parseRule precedence and associativity', () => {
  it.each([
    ['a or b and c', '(a or (b and c))'],
    ['a and b or c', '((a and b) or c)'],
    ['a or b or c', '((a or b) or c)'],
    ['not a and b', '((not a) and b)'],
    ['not a == b', '(not (a == b))'],
    ['not not a', '(not (not a))'],
    ['not a in b', '(not (a in b))'],
    ['a not in b', '(a not in b)'],
    ['a == b and c != d', '((a == b) and (c != d))'],
    ['a + b == c * d', '((a + b) == (c * d))'],
    ['a + b * c', '(a + (b * c))'],
    ['a - b - c', '((a - b) - c)'],
    ['a / b * c % d', '(((a / b) * c) % d)'],
    ['-a * b', '((-a) * b)'],
    ['-a ** b', '(-(a ** b))'],
    ['a ** -b', '(a ** (-b))'],
    ['a ** b ** c', '(a ** (b ** c))'],
    ['- - a', '(-(-a))'],
    ['-2', '(-2)'],
    ['a - -2', '(a - (-2))'],
    ['a.b.c', 'a.b.c'],
    ['a.b[0].c', 'a.b[0].c'],
    ['a&.b&["c"]&.d', 'a&.b&["c"]&.d'],
    ['-a.b ** 2', '(-(a.b ** 2))'],
    ['a ? b : c', '(a ? b : c)'],
    ['a ? b : c ? d : e', '(a ? b : (c ? d : e))'],
    ['a ? b ? c : d : e', '(a ? (b ? c : d) : e)'],
    ['a or b ? c and d : e or f', '((a or b) ? (c and d) : (e or f))'],
    ['(a or b) and c', '((a or b) and c)'],
    ['a =~ "x" or b !~~ "y"', '((a =~ "x") or (b !~~ "y"))'],
    ['a + "x" =~ b', '((a + "x") =~ b)'],
    ['[1, a + 1, [2]]', '[1, (a + 1), [2]]'],
    ['[1, 2,]', '[1, 2]'],
    ['[]', '[]'],
    ['{}', '{}'],
    ['{"k": 1, "j": a ? 1 : 2,}', '{"k": 1, "j": (a ? 1 : 2)}'],
    ['a.in', 'a.in'],
    ['a.null&.not', 'a.null&.not'],
    ['true and false or null', '((true and false) or null)'],
  ])('%s ⇒ %s', (text, expected) => {
    expect(shape(parseRule(text))).toBe(expected);
  });

  it('records positions: first character for leaves, the operator for the rest', () => {
    const ast = parseRule('  a.b + x[1]');
    expect(ast).toMatchObject({
      kind: 'binary',
      pos: 6,
      left: { kind: 'attribute', pos: 3, object: { kind: 'variable', pos: 2 } },
      right: { kind: 'index', pos: 9, object: { pos: 8 }, index: { kind: 'literal', pos: 10 } },
    });
  });
});

describe('parseRule errors', () => {
  it.each([
    ['', 'empty rule', 0],
    ['   ', 'empty rule', 0],
    ['a ==', 'unexpected end of rule', 4],
    ['a b', "unexpected 'b'", 2],
    ['(a', "expected ')' but found end of rule", 2],
    ['a)', "unexpected ')'", 1],
    ['[1, 2', "expected ']' but found end of rule", 5],
    ['[1 2]', "expected ']' but found number 2", 3],
    ['{"a" 1}', "expected ':' but found number 1", 5],
    ['{"a": 1', "expected '}' but found end of rule", 7],
    ['a.', 'expected an attribute name but found end of rule', 2],
    ['a.1', 'expected an attribute name but found number 1', 2],
    ['a[]', "unexpected ']'", 2],
    ['a ? b', "expected ':' but found end of rule", 5],
    ['a < b < c', 'comparisons cannot be chained; add parentheses', 6],
    ['a == b in c', 'comparisons cannot be chained; add parentheses', 7],
    ['a == not b', "unexpected 'not'", 5],
    ['a and', 'unexpected end of rule', 5],
    ['and a', "unexpected 'and'", 0],
    ['a not b', "unexpected 'not'", 2],
    ['+a', "unexpected '+'", 0],
    ['a +', 'unexpected end of rule', 3],
    ['"x" "y"', 'unexpected string literal', 4],
    ['a // b', "unsupported operator '//' (floor division)", 2],
  ])('%j: %s at %d', (text, message, position) => {
    expect(errorOf(text)).toEqual({ message, position });
  });
});

describe('nesting depth', () => {
  const nested = (n: number, open: string, close: string): string => `${open.repeat(n)}a${close.repeat(n)}`;

  it(`accepts ${MAX_RULE_DEPTH} nested levels of each construct`, () => {
    for (const [open, close] of [
      ['(', ')'],
      ['[', ']'],
      ['not ', ''],
      ['-', ''],
    ]) {
      expect(() => parseRule(nested(MAX_RULE_DEPTH, open, close))).not.toThrow();
    }
    expect(() => parseRule(`${'{"k": '.repeat(MAX_RULE_DEPTH)}1${'}'.repeat(MAX_RULE_DEPTH)}`)).not.toThrow();
    expect(() => parseRule(`a${'[a'.repeat(MAX_RULE_DEPTH)}${']'.repeat(MAX_RULE_DEPTH)}`)).not.toThrow();
    expect(() => parseRule(`2${' ** 2'.repeat(MAX_RULE_DEPTH)}`)).not.toThrow();
    expect(() => parseRule(`${'a ? b : '.repeat(MAX_RULE_DEPTH)}c`)).not.toThrow();
  });

  it.each([
    ['(', ')', MAX_RULE_DEPTH],
    ['[', ']', MAX_RULE_DEPTH],
    ['not ', '', MAX_RULE_DEPTH * 4],
    ['-', '', MAX_RULE_DEPTH],
  ])(`rejects ${MAX_RULE_DEPTH + 1} levels of %j at the opening token`, (open, close, position) => {
    expect(errorOf(nested(MAX_RULE_DEPTH + 1, open, close))).toEqual({
      message: `rule is nested deeper than ${MAX_RULE_DEPTH} levels`,
      position,
    });
  });

  it('rejects deep right-nesting of ** and ternaries', () => {
    expect(errorOf(`2${' ** 2'.repeat(MAX_RULE_DEPTH + 1)}`).message).toMatch(/nested deeper/);
    expect(errorOf(`${'a ? b : '.repeat(MAX_RULE_DEPTH + 1)}c`).message).toMatch(/nested deeper/);
  });

  it('does not count flat chains as nesting', () => {
    const chain = Array.from({ length: 200 }, (_, i) => `a == ${i}`).join(' or ');
    expect(() => parseRule(chain)).not.toThrow();
    expect(() => parseRule(`a${'.b'.repeat(300)}`)).not.toThrow();
    expect(() => parseRule(Array.from({ length: 300 }, () => 'a').join(' + '))).not.toThrow();
  });

  it('counts the deepest branch, not the total', () => {
    const deep = nested(MAX_RULE_DEPTH, '(', ')');
    expect(() => parseRule(`${deep} and ${deep} and ${deep}`)).not.toThrow();
  });

  it('takes the limit as a parameter', () => {
    expect(errorOf('((a))', 1)).toEqual({ message: 'rule is nested deeper than 1 levels', position: 1 });
  });
});
