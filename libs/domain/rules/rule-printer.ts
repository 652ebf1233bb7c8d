/**
 * Prints a tree back to rule text with only the parentheses the parser needs, so that
 * `parseRule(printRule(ast))` is `ast` again (positions aside). Used by the round-trip property tests, and handy
 * for normalising rules in diagnostics.
 */
import { Precedence, binaryPrecedence, nodePrecedence, type RuleNode } from './rule-ast.js';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function printRule(node: RuleNode): string {
  return print(node, Precedence.ternary);
}

function print(node: RuleNode, minPrecedence: number): string {
  const text = printBare(node);
  return nodePrecedence(node) < minPrecedence ? `(${text})` : text;
}

function printBare(node: RuleNode): string {
  switch (node.kind) {
    case 'literal':
      return printLiteral(node.value);
    case 'variable':
      return node.name;
    case 'array':
      return `[${node.items.map((item) => print(item, Precedence.ternary)).join(', ')}]`;
    case 'mapping':
      return `{${node.entries
        .map((e) => `${print(e.key, Precedence.ternary)}: ${print(e.value, Precedence.ternary)}`)
        .join(', ')}}`;
    case 'attribute':
      return `${print(node.object, Precedence.postfix)}${node.safe ? '&.' : '.'}${printName(node.name)}`;
    case 'index':
      return `${print(node.object, Precedence.postfix)}${node.safe ? '&[' : '['}${print(node.index, Precedence.ternary)}]`;
    case 'unary':
      return node.op === 'not'
        ? `not ${print(node.operand, Precedence.not)}`
        : `-${print(node.operand, Precedence.unary)}`;
    case 'ternary':
      return `${print(node.condition, Precedence.or)} ? ${print(node.then, Precedence.ternary)} : ${print(node.otherwise, Precedence.ternary)}`;
    case 'binary': {
      const p = binaryPrecedence(node.op);
      let leftMin: number;
      let rightMin: number;
      if (node.op === '**') {
        leftMin = Precedence.postfix;
        rightMin = Precedence.unary;
      } else if (p === Precedence.comparison) {
        leftMin = rightMin = Precedence.additive;
      } else {
        leftMin = p;
        rightMin = p + 1;
      }
      return `${print(node.left, leftMin)} ${node.op} ${print(node.right, rightMin)}`;
    }
  }
}

function printName(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`attribute name ${JSON.stringify(name)} cannot be printed`);
  return name;
}

function printLiteral(value: string | number | boolean | null): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    // The grammar has no negative or non-finite literals; the parser never produces them.
    if (!Number.isFinite(value) || value < 0 || Object.is(value, -0)) {
      throw new Error(`number ${value} cannot be printed as a literal`);
    }
    return String(value);
  }
  return printString(value);
}

export function printString(value: string): string {
  let out = '"';
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += value[i];
  }
  return out + '"';
}
