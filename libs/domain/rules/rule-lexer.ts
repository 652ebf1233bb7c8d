/**
 * Tokenizer of the rule language. String escapes follow Python string literals — including keeping unknown
 * escapes such as `\d` verbatim — because rule texts are written for the Python `rule-engine` and regex patterns
 * in them rely on exactly that.
 */
import { InvalidRuleError } from './rule-types.js';

export type TokenKind = 'number' | 'string' | 'identifier' | 'keyword' | 'operator' | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** Source spelling for identifiers, keywords and operators; empty for eof. */
  readonly text: string;
  /** Decoded value of number and string tokens. */
  readonly value: number | string | null;
  readonly pos: number;
  readonly end: number;
}

export const KEYWORDS: ReadonlySet<string> = new Set(['and', 'or', 'not', 'in', 'true', 'false', 'null']);

/** Longest first, so that `=~~` wins over `=~` and `**` over `*`. */
const OPERATORS: readonly string[] = [
  '=~~',
  '!~~',
  '**',
  '==',
  '!=',
  '<=',
  '>=',
  '=~',
  '!~',
  '&.',
  '&[',
  '<',
  '>',
  '+',
  '-',
  '*',
  '/',
  '%',
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
];

/**
 * Operators of the full rule-engine (or of other languages) that this subset does not support. Recognising them
 * gives a precise "unknown operator" error instead of a confusing one a token later.
 */
const UNSUPPORTED_OPERATORS: readonly (readonly [string, string])[] = [
  ['//', "unsupported operator '//' (floor division)"],
  ['&&', "unsupported operator '&&'; use 'and'"],
  ['||', "unsupported operator '||'; use 'or'"],
  ['<<', "unsupported operator '<<'"],
  ['>>', "unsupported operator '>>'"],
  ['&', "unsupported operator '&'"],
  ['|', "unsupported operator '|'"],
  ['^', "unsupported operator '^'"],
  ['~', "unsupported operator '~'"],
  ['=', "unsupported operator '='; use '==' to compare"],
  ['!', "unsupported operator '!'; use 'not'"],
];

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isIdentStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

function isIdentPart(c: number): boolean {
  return isIdentStart(c) || isDigit(c);
}

function isWhitespace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11;
}

function isHex(c: number): boolean {
  return isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

export function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = src.length;
  while (i < n) {
    const c = src.charCodeAt(i);
    if (isWhitespace(c)) {
      i++;
      continue;
    }
    if (isDigit(c)) {
      i = lexNumber(src, i, tokens);
      continue;
    }
    if (isIdentStart(c)) {
      let j = i + 1;
      while (j < n && isIdentPart(src.charCodeAt(j))) j++;
      const text = src.slice(i, j);
      tokens.push({ kind: KEYWORDS.has(text) ? 'keyword' : 'identifier', text, value: null, pos: i, end: j });
      i = j;
      continue;
    }
    if (c === 39 || c === 34) {
      i = lexString(src, i, tokens);
      continue;
    }
    // Two-character unsupported operators first: `//` must not lex as `/` `/`. Single characters last: `=` and
    // `!` are prefixes of supported operators.
    const unsupported = UNSUPPORTED_OPERATORS.find(([o]) => src.startsWith(o, i));
    if (unsupported !== undefined && unsupported[0].length === 2)
      throw new InvalidRuleError(unsupported[1], i);
    const op = OPERATORS.find((o) => src.startsWith(o, i));
    if (op !== undefined) {
      tokens.push({ kind: 'operator', text: op, value: null, pos: i, end: i + op.length });
      i += op.length;
      continue;
    }
    if (unsupported !== undefined) throw new InvalidRuleError(unsupported[1], i);
    const ch = String.fromCodePoint(src.codePointAt(i) ?? c);
    throw new InvalidRuleError(`unexpected character ${JSON.stringify(ch)}`, i);
  }
  tokens.push({ kind: 'eof', text: '', value: null, pos: n, end: n });
  return tokens;
}

function lexNumber(src: string, start: number, tokens: Token[]): number {
  const n = src.length;
  let i = start;
  while (i < n && isDigit(src.charCodeAt(i))) i++;
  // A dot only belongs to the number when a digit follows; otherwise it is attribute access (`1.x`).
  if (i + 1 < n && src.charCodeAt(i) === 46 && isDigit(src.charCodeAt(i + 1))) {
    i += 2;
    while (i < n && isDigit(src.charCodeAt(i))) i++;
  }
  if (i < n && (src[i] === 'e' || src[i] === 'E')) {
    let j = i + 1;
    if (j < n && (src[j] === '+' || src[j] === '-')) j++;
    if (j >= n || !isDigit(src.charCodeAt(j)))
      throw new InvalidRuleError('invalid number: missing exponent', start);
    while (j < n && isDigit(src.charCodeAt(j))) j++;
    i = j;
  }
  if (i < n && isIdentPart(src.charCodeAt(i))) throw new InvalidRuleError('invalid number', start);
  const text = src.slice(start, i);
  const value = Number(text);
  if (!Number.isFinite(value)) throw new InvalidRuleError('number out of range', start);
  tokens.push({ kind: 'number', text, value, pos: start, end: i });
  return i;
}

function lexString(src: string, start: number, tokens: Token[]): number {
  const n = src.length;
  const quote = src[start];
  let out = '';
  let i = start + 1;
  let chunk = i;
  for (;;) {
    if (i >= n) throw new InvalidRuleError('unterminated string', start);
    const c = src[i];
    if (c === quote) break;
    if (c === '\n' || c === '\r') throw new InvalidRuleError('unterminated string', start);
    if (c !== '\\') {
      i++;
      continue;
    }
    out += src.slice(chunk, i);
    if (i + 1 >= n) throw new InvalidRuleError('unterminated string', start);
    const e = src[i + 1];
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      out += simple;
      i += 2;
    } else if (e === '\n') {
      i += 2;
    } else if (e === '\r') {
      i += src[i + 2] === '\n' ? 3 : 2;
    } else if (e >= '0' && e <= '7') {
      let j = i + 1;
      while (j < n && j < i + 4 && src[j] >= '0' && src[j] <= '7') j++;
      out += String.fromCharCode(parseInt(src.slice(i + 1, j), 8));
      i = j;
    } else if (e === 'x' || e === 'u' || e === 'U') {
      const width = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const digits = src.slice(i + 2, i + 2 + width);
      if (digits.length !== width || ![...digits].every((d) => isHex(d.charCodeAt(0)))) {
        throw new InvalidRuleError(`truncated \\${e} escape`, i);
      }
      const cp = parseInt(digits, 16);
      if (cp > 0x10ffff) throw new InvalidRuleError(`invalid \\${e} escape`, i);
      out += String.fromCodePoint(cp);
      i += 2 + width;
    } else if (e === 'N') {
      throw new InvalidRuleError('\\N{...} escapes are not supported', i);
    } else {
      // Python keeps unknown escapes as written, which is what makes "\d+" work as a regex pattern.
      out += '\\';
      i += 1;
    }
    chunk = i;
  }
  out += src.slice(chunk, i);
  tokens.push({ kind: 'string', text: src.slice(start, i + 1), value: out, pos: start, end: i + 1 });
  return i + 1;
}
