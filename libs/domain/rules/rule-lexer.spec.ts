import { tokenize } from './rule-lexer.js';
import { InvalidRuleError } from './rule-types.js';

function kinds(text: string): string[] {
  return tokenize(text).map(
    (t) => `${t.kind}:${t.kind === 'string' || t.kind === 'number' ? t.value : t.text}`,
  );
}

function errorOf(text: string): { message: string; position: number } {
  try {
    tokenize(text);
  } catch (e) {
    if (e instanceof InvalidRuleError) return { message: e.message, position: e.position };
    throw e;
  }
  throw new Error(`expected ${text} to fail`);
}

describe('tokenize', () => {
  it('splits identifiers, keywords, numbers and operators with positions', () => {
    const tokens = tokenize('TWIN.kind == "pallet" and not x');
    expect(tokens.map((t) => [t.kind, t.pos, t.end])).toEqual([
      ['identifier', 0, 4],
      ['operator', 4, 5],
      ['identifier', 5, 9],
      ['operator', 10, 12],
      ['string', 13, 21],
      ['keyword', 22, 25],
      ['keyword', 26, 29],
      ['identifier', 30, 31],
      ['eof', 31, 31],
    ]);
  });

  it.each([
    ['a=~~b', ['identifier:a', 'operator:=~~', 'identifier:b']],
    ['a!~~b', ['identifier:a', 'operator:!~~', 'identifier:b']],
    ['a=~b!~c', ['identifier:a', 'operator:=~', 'identifier:b', 'operator:!~', 'identifier:c']],
    ['a**b*c', ['identifier:a', 'operator:**', 'identifier:b', 'operator:*', 'identifier:c']],
    ['a&.b&["c"]', ['identifier:a', 'operator:&.', 'identifier:b', 'operator:&[', 'string:c', 'operator:]']],
    [
      'a<=b>=c<d>e',
      ['identifier:a', 'operator:<=', 'identifier:b', 'operator:>=', 'identifier:c', 'operator:<'],
    ],
  ])('longest operator wins in %s', (text, prefix) => {
    expect(kinds(text).slice(0, prefix.length)).toEqual(prefix);
  });

  it.each([
    ['1', 1],
    ['1.5', 1.5],
    ['1e3', 1000],
    ['1E+3', 1000],
    ['25e-1', 2.5],
    ['0.125', 0.125],
    ['007', 7],
  ])('number %s', (text, value) => {
    expect(tokenize(text)[0]).toMatchObject({ kind: 'number', value });
  });

  it('leaves a dot not followed by a digit to attribute access', () => {
    expect(kinds('1.x')).toEqual(['number:1', 'operator:.', 'identifier:x', 'eof:']);
  });

  it('does not lex a minus sign into the number (unary minus is an operator)', () => {
    expect(kinds('-2')).toEqual(['operator:-', 'number:2', 'eof:']);
  });

  it.each([
    [String.raw`"a\"b"`, 'a"b'],
    [String.raw`'a\'b'`, "a'b"],
    [`'say "hi"'`, 'say "hi"'],
    [String.raw`"\\"`, '\\'],
    [String.raw`"\n\t\r\f\v\a\b"`, '\n\t\r\f\v\x07\b'],
    [String.raw`"\x41\u0042\U00000043"`, 'ABC'],
    [String.raw`"\U0001F600"`, '\u{1F600}'],
    [String.raw`"\101\0"`, 'A\0'],
    // Python keeps unknown escapes, which regex patterns rely on.
    [String.raw`"\d+\.\w"`, String.raw`\d+\.\w`],
    ['"a\\\nb"', 'ab'],
    ['""', ''],
    ['"zażółć 😀"', 'zażółć 😀'],
  ])('string %s', (text, value) => {
    expect(tokenize(text)[0]).toMatchObject({ kind: 'string', value });
  });

  it.each([
    ['"abc', 'unterminated string', 0],
    ['x == "abc', 'unterminated string', 5],
    ['"ab\ncd"', 'unterminated string', 0],
    ['"abc\\', 'unterminated string', 0],
    ['"\\x4"', 'truncated \\x escape', 1],
    ['"\\u12"', 'truncated \\u escape', 1],
    ['"\\U00110000"', 'invalid \\U escape', 1],
    ['"\\N{DASH}"', '\\N{...} escapes are not supported', 1],
    ['1e', 'invalid number: missing exponent', 0],
    ['x + 1e+', 'invalid number: missing exponent', 4],
    ['12abc', 'invalid number', 0],
    ['1e999', 'number out of range', 0],
    ['a // b', "unsupported operator '//' (floor division)", 2],
    ['a && b', "unsupported operator '&&'; use 'and'", 2],
    ['a || b', "unsupported operator '||'; use 'or'", 2],
    ['a & b', "unsupported operator '&'", 2],
    ['a | b', "unsupported operator '|'", 2],
    ['a ^ b', "unsupported operator '^'", 2],
    ['a << b', "unsupported operator '<<'", 2],
    ['a = b', "unsupported operator '='; use '==' to compare", 2],
    ['!a', "unsupported operator '!'; use 'not'", 0],
    ['~a', "unsupported operator '~'", 0],
    ['a $ b', 'unexpected character "$"', 2],
    ['a # comment', 'unexpected character "#"', 2],
    ['żaba', 'unexpected character "ż"', 0],
    ['x\u0000', 'unexpected character "\\u0000"', 1],
  ])('rejects %j: %s at %d', (text, message, position) => {
    expect(errorOf(text)).toEqual({ message, position });
  });
});
