/**
 * The syntax tree of the rule language (docs/rules.md "Syntax"). Produced by the parser, printed by the printer,
 * turned into closures by the evaluator. Every node carries a 0-based source offset so later passes (unknown
 * variables, bad regex literals) and error messages can say where: the first character for literals, arrays, mappings
 * and variables, the operator token for everything else.
 */

export type LiteralValue = null | boolean | number | string;

export type BinaryOperator =
  | 'or'
  | 'and'
  | '=='
  | '!='
  | '<'
  | '<='
  | '>'
  | '>='
  | '=~'
  | '!~'
  | '=~~'
  | '!~~'
  | 'in'
  | 'not in'
  | '+'
  | '-'
  | '*'
  | '/'
  | '%'
  | '**';

export type UnaryOperator = '-' | 'not';

export interface LiteralNode {
  readonly kind: 'literal';
  /** Number literals are never negative: `-2` is unary minus applied to `2`, as in Python. */
  readonly value: LiteralValue;
  readonly pos: number;
}

export interface ArrayNode {
  readonly kind: 'array';
  readonly items: readonly RuleNode[];
  readonly pos: number;
}

export interface MappingEntry {
  readonly key: RuleNode;
  readonly value: RuleNode;
}

export interface MappingNode {
  readonly kind: 'mapping';
  readonly entries: readonly MappingEntry[];
  readonly pos: number;
}

export interface VariableNode {
  readonly kind: 'variable';
  /** Not yet checked against RuleVariables: the compiler does that so the parser stays reusable for tooling. */
  readonly name: string;
  readonly pos: number;
}

export interface AttributeNode {
  readonly kind: 'attribute';
  readonly object: RuleNode;
  readonly name: string;
  /** `&.`: a null object yields null instead of an error. */
  readonly safe: boolean;
  readonly pos: number;
}

export interface IndexNode {
  readonly kind: 'index';
  readonly object: RuleNode;
  readonly index: RuleNode;
  /** `&[`: a null object yields null instead of an error. */
  readonly safe: boolean;
  readonly pos: number;
}

export interface UnaryNode {
  readonly kind: 'unary';
  readonly op: UnaryOperator;
  readonly operand: RuleNode;
  readonly pos: number;
}

export interface BinaryNode {
  readonly kind: 'binary';
  readonly op: BinaryOperator;
  readonly left: RuleNode;
  readonly right: RuleNode;
  /** Offset of the operator token, which is where type errors are best reported. */
  readonly pos: number;
}

export interface TernaryNode {
  readonly kind: 'ternary';
  readonly condition: RuleNode;
  readonly then: RuleNode;
  readonly otherwise: RuleNode;
  readonly pos: number;
}

export type RuleNode =
  | LiteralNode
  | ArrayNode
  | MappingNode
  | VariableNode
  | AttributeNode
  | IndexNode
  | UnaryNode
  | BinaryNode
  | TernaryNode;

/**
 * Binding strength, lowest first. Shared by the parser and the printer so the printer's parentheses are exactly
 * the ones the parser needs.
 */
export const Precedence = {
  ternary: 1,
  or: 2,
  and: 3,
  not: 4,
  comparison: 5,
  additive: 6,
  multiplicative: 7,
  unary: 8,
  power: 9,
  postfix: 10,
  primary: 11,
} as const;

export function binaryPrecedence(op: BinaryOperator): number {
  switch (op) {
    case 'or':
      return Precedence.or;
    case 'and':
      return Precedence.and;
    case '+':
    case '-':
      return Precedence.additive;
    case '*':
    case '/':
    case '%':
      return Precedence.multiplicative;
    case '**':
      return Precedence.power;
    default:
      return Precedence.comparison;
  }
}

export function nodePrecedence(node: RuleNode): number {
  switch (node.kind) {
    case 'ternary':
      return Precedence.ternary;
    case 'binary':
      return binaryPrecedence(node.op);
    case 'unary':
      return node.op === 'not' ? Precedence.not : Precedence.unary;
    case 'attribute':
    case 'index':
      return Precedence.postfix;
    default:
      return Precedence.primary;
  }
}
