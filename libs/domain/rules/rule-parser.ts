/**
 * Recursive-descent parser with one function per precedence level (lowest first):
 * ternary, or, and, not, comparison/membership/regex, + -, * / %, unary -, **, postfix access.
 * Comparisons do not chain (`a < b < c` is rejected, as in rule-engine) so nobody gets a silent surprise.
 */
import type { BinaryOperator, MappingEntry, RuleNode } from './rule-ast.js';
import { tokenize, type Token } from './rule-lexer.js';
import { InvalidRuleError } from './rule-types.js';

/** docs/rules.md "Limits": a rule nests at most 32 levels deep. */
export const MAX_RULE_DEPTH = 32;

const COMPARISON_OPERATORS: ReadonlySet<string> = new Set([
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
]);

/**
 * Parses rule text into a tree. Nesting depth counts the constructs a reader sees as nesting — parentheses,
 * array and mapping literals, index brackets, prefix operators, `**` exponents and ternary branches — but not
 * flat chains such as `a or b or c`, which a reader (and the parser, which loops over them) sees as one level.
 */
export function parseRule(text: string, maxDepth: number = MAX_RULE_DEPTH): RuleNode {
  return new Parser(tokenize(text), maxDepth).parseAll();
}

function describe(token: Token): string {
  switch (token.kind) {
    case 'eof':
      return 'end of rule';
    case 'string':
      return 'string literal';
    case 'number':
      return `number ${token.text}`;
    default:
      return `'${token.text}'`;
  }
}

class Parser {
  private index = 0;
  private depth = 0;

  constructor(
    private readonly tokens: readonly Token[],
    private readonly maxDepth: number,
  ) {}

  parseAll(): RuleNode {
    if (this.peek().kind === 'eof') throw new InvalidRuleError('empty rule', 0);
    const node = this.parseTernary();
    const rest = this.peek();
    if (rest.kind !== 'eof') throw new InvalidRuleError(`unexpected ${describe(rest)}`, rest.pos);
    return node;
  }

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.index + offset, this.tokens.length - 1)];
  }

  private advance(): Token {
    const token = this.tokens[this.index];
    if (this.index < this.tokens.length - 1) this.index++;
    return token;
  }

  private isOperator(text: string): boolean {
    const token = this.peek();
    return token.kind === 'operator' && token.text === text;
  }

  private isKeyword(text: string, offset = 0): boolean {
    const token = this.peek(offset);
    return token.kind === 'keyword' && token.text === text;
  }

  private expectOperator(text: string): Token {
    const token = this.peek();
    if (token.kind !== 'operator' || token.text !== text) {
      throw new InvalidRuleError(`expected '${text}' but found ${describe(token)}`, token.pos);
    }
    return this.advance();
  }

  private nested<T>(pos: number, parse: () => T): T {
    if (++this.depth > this.maxDepth) {
      throw new InvalidRuleError(`rule is nested deeper than ${this.maxDepth} levels`, pos);
    }
    try {
      return parse();
    } finally {
      this.depth--;
    }
  }

  private parseTernary(): RuleNode {
    const condition = this.parseOr();
    if (!this.isOperator('?')) return condition;
    const pos = this.advance().pos;
    const then = this.nested(pos, () => this.parseTernary());
    const colon = this.expectOperator(':');
    const otherwise = this.nested(colon.pos, () => this.parseTernary());
    return { kind: 'ternary', condition, then, otherwise, pos };
  }

  private parseOr(): RuleNode {
    let left = this.parseAnd();
    while (this.isKeyword('or')) {
      const pos = this.advance().pos;
      left = { kind: 'binary', op: 'or', left, right: this.parseAnd(), pos };
    }
    return left;
  }

  private parseAnd(): RuleNode {
    let left = this.parseNot();
    while (this.isKeyword('and')) {
      const pos = this.advance().pos;
      left = { kind: 'binary', op: 'and', left, right: this.parseNot(), pos };
    }
    return left;
  }

  private parseNot(): RuleNode {
    if (!this.isKeyword('not')) return this.parseComparison();
    const pos = this.advance().pos;
    const operand = this.nested(pos, () => this.parseNot());
    return { kind: 'unary', op: 'not', operand, pos };
  }

  /** The comparison operator at the cursor, if any, and how many tokens it spans. */
  private comparisonOperator(): [BinaryOperator, number] | null {
    const token = this.peek();
    if (token.kind === 'operator' && COMPARISON_OPERATORS.has(token.text)) {
      return [token.text as BinaryOperator, 1];
    }
    if (this.isKeyword('in')) return ['in', 1];
    if (this.isKeyword('not') && this.isKeyword('in', 1)) return ['not in', 2];
    return null;
  }

  private parseComparison(): RuleNode {
    const left = this.parseAdditive();
    const found = this.comparisonOperator();
    if (found === null) return left;
    const pos = this.peek().pos;
    for (let i = 0; i < found[1]; i++) this.advance();
    const right = this.parseAdditive();
    if (this.comparisonOperator() !== null) {
      throw new InvalidRuleError('comparisons cannot be chained; add parentheses', this.peek().pos);
    }
    return { kind: 'binary', op: found[0], left, right, pos };
  }

  private parseAdditive(): RuleNode {
    let left = this.parseMultiplicative();
    while (this.isOperator('+') || this.isOperator('-')) {
      const token = this.advance();
      const op = token.text as BinaryOperator;
      left = { kind: 'binary', op, left, right: this.parseMultiplicative(), pos: token.pos };
    }
    return left;
  }

  private parseMultiplicative(): RuleNode {
    let left = this.parseUnary();
    while (this.isOperator('*') || this.isOperator('/') || this.isOperator('%')) {
      const token = this.advance();
      const op = token.text as BinaryOperator;
      left = { kind: 'binary', op, left, right: this.parseUnary(), pos: token.pos };
    }
    return left;
  }

  private parseUnary(): RuleNode {
    if (!this.isOperator('-')) return this.parsePower();
    const pos = this.advance().pos;
    const operand = this.nested(pos, () => this.parseUnary());
    return { kind: 'unary', op: '-', operand, pos };
  }

  /** Right-associative and binds tighter than unary minus on its left only, as in Python: -2 ** -1 == -(2 ** (-1)). */
  private parsePower(): RuleNode {
    const base = this.parsePostfix();
    if (!this.isOperator('**')) return base;
    const pos = this.advance().pos;
    const exponent = this.nested(pos, () => this.parseUnary());
    return { kind: 'binary', op: '**', left: base, right: exponent, pos };
  }

  private parsePostfix(): RuleNode {
    let node = this.parsePrimary();
    for (;;) {
      const token = this.peek();
      if (token.kind !== 'operator') return node;
      if (token.text === '.' || token.text === '&.') {
        this.advance();
        const name = this.peek();
        // Keywords are fine as attribute names: description keys such as `in` or `null` are legal.
        if (name.kind !== 'identifier' && name.kind !== 'keyword') {
          throw new InvalidRuleError(`expected an attribute name but found ${describe(name)}`, name.pos);
        }
        this.advance();
        node = {
          kind: 'attribute',
          object: node,
          name: name.text,
          safe: token.text === '&.',
          pos: token.pos,
        };
      } else if (token.text === '[' || token.text === '&[') {
        this.advance();
        const index = this.nested(token.pos, () => this.parseTernary());
        this.expectOperator(']');
        node = { kind: 'index', object: node, index, safe: token.text === '&[', pos: token.pos };
      } else {
        return node;
      }
    }
  }

  private parsePrimary(): RuleNode {
    const token = this.peek();
    switch (token.kind) {
      case 'number':
      case 'string':
        this.advance();
        return { kind: 'literal', value: token.value, pos: token.pos };
      case 'identifier':
        this.advance();
        return { kind: 'variable', name: token.text, pos: token.pos };
      case 'keyword':
        if (token.text === 'true' || token.text === 'false' || token.text === 'null') {
          this.advance();
          const value = token.text === 'null' ? null : token.text === 'true';
          return { kind: 'literal', value, pos: token.pos };
        }
        break;
      case 'operator':
        if (token.text === '(') {
          this.advance();
          const inner = this.nested(token.pos, () => this.parseTernary());
          this.expectOperator(')');
          return inner;
        }
        if (token.text === '[') return this.nested(token.pos, () => this.parseArray());
        if (token.text === '{') return this.nested(token.pos, () => this.parseMapping());
        break;
      default:
        break;
    }
    throw new InvalidRuleError(
      token.kind === 'eof' ? 'unexpected end of rule' : `unexpected ${describe(token)}`,
      token.pos,
    );
  }

  private parseArray(): RuleNode {
    const pos = this.expectOperator('[').pos;
    const items: RuleNode[] = [];
    while (!this.isOperator(']')) {
      items.push(this.parseTernary());
      if (!this.isOperator(',')) break;
      this.advance();
    }
    this.expectOperator(']');
    return { kind: 'array', items, pos };
  }

  private parseMapping(): RuleNode {
    const pos = this.expectOperator('{').pos;
    const entries: MappingEntry[] = [];
    while (!this.isOperator('}')) {
      const key = this.parseTernary();
      this.expectOperator(':');
      entries.push({ key, value: this.parseTernary() });
      if (!this.isOperator(',')) break;
      this.advance();
    }
    this.expectOperator('}');
    return { kind: 'mapping', entries, pos };
  }
}
