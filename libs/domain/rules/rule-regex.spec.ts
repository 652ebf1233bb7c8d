import fc from 'fast-check';
import { cachedPattern, compilePattern, RegexSyntaxError } from './rule-regex.js';
import { RuleEvaluationError } from './rule-values.js';

function syntaxError(pattern: string): { message: string; position: number } {
  try {
    compilePattern(pattern);
  } catch (e) {
    if (e instanceof RegexSyntaxError) return { message: e.message, position: e.position };
    throw e;
  }
  throw new Error(`expected ${pattern} to be rejected`);
}

describe('matching (Python re semantics)', () => {
  // [pattern, input, fullmatch, search]
  it.each<[string, string, boolean, boolean]>([
    ['abc', 'abc', true, true],
    ['abc', 'xabcx', false, true],
    ['', '', true, true],
    ['', 'x', false, true],
    ['a|b', 'b', true, true],
    ['ab|cd', 'abd', false, true],
    ['a*', '', true, true],
    ['a+', '', false, false],
    ['a?b', 'b', true, true],
    ['a{2}', 'aa', true, true],
    ['a{2}', 'a', false, false],
    ['a{2,}', 'aaaa', true, true],
    ['a{,2}', 'aaa', false, true],
    ['a{1,2}b', 'aab', true, true],
    ['a*?b', 'aab', true, true],
    ['(?:ab)+', 'ababab', true, true],
    ['(ab)+', 'aba', false, true],
    ['(?P<year>\\d{4})-\\d{2}', '2024-05', true, true],
    ['a(?#comment)b', 'ab', true, true],
    // A brace that does not form a quantifier is a literal.
    ['a{', 'a{', true, true],
    ['a{x}', 'a{x}', true, true],
    ['x{}', 'x{}', true, true],
    ['{', '{', true, true],
    ['a}', 'a}', true, true],
    ['.', 'x', true, true],
    ['.', '\n', false, false],
    ['(?s).', '\n', true, true],
    ['.', '😀', true, true],
    ['..', '😀', false, false],
    ['[abc]+', 'cab', true, true],
    ['[^abc]', 'd', true, true],
    ['[^abc]', 'a', false, false],
    ['[a-z0-9_]+', 'ab_9', true, true],
    ['[]a]+', ']a]', true, true],
    ['[^]a]', 'b', true, true],
    ['[a-]', '-', true, true],
    ['[-a]', '-', true, true],
    ['[\\d.]+', '1.5', true, true],
    ['[\\b]', '\b', true, true],
    ['[\\]]', ']', true, true],
    ['\\d+', '123', true, true],
    ['\\d', '٣', true, true],
    ['(?a)\\d', '٣', false, false],
    ['\\D', 'x', true, true],
    ['\\w+', 'zażółć_1', true, true],
    ['(?a)\\w+', 'zażółć', false, true],
    ['\\W', ' ', true, true],
    ['\\s', '\t', true, true],
    ['\\s', '\u00a0', true, true],
    ['\\S', ' ', false, false],
    ['^abc', 'abc', true, true],
    ['^b', 'ab', false, false],
    ['a$', 'a', true, true],
    ['a$', 'a\n', false, true],
    ['a$', 'a\n\n', false, false],
    ['a\\Z', 'a\n', false, false],
    ['\\Aa', 'ba', false, false],
    ['(?m)^b$', 'a\nb\nc', false, true],
    ['^b$', 'a\nb\nc', false, false],
    ['\\bfoo\\b', 'a foo b', false, true],
    ['\\bfoo\\b', 'afoob', false, false],
    ['\\Bfoo', 'afoo', false, true],
    ['\\bż', ' ż', false, true],
    ['(?i)abc', 'ABC', true, true],
    ['(?i)[a-c]+', 'CAB', true, true],
    ['(?i)ż', 'Ż', true, true],
    ['(?i:a)b', 'Ab', true, true],
    ['(?i:a)b', 'AB', false, false],
    ['(?i)(?-i:a)b', 'aB', true, true],
    ['(?i)(?-i:a)b', 'AB', false, false],
    ['\\x41\\u0042\\U00000043\\101', 'ABCA', true, true],
    ['\\0', '\0', true, true],
    ['\\n\\t', '\n\t', true, true],
    ['\\.\\*\\-\\#', '.*-#', true, true],
    ['WAW-[0-9]+', 'WAW-12', true, true],
    ['RFID#[0-9a-f-]{8,}', 'RFID#be144bdc-0f6d', true, true],
    ['(a|ab)(c|bcd)(d*)', 'abcd', true, true],
    ['(a*)*', 'aaa', true, true],
    ['(a*)+b', 'aaab', true, true],
    ['(|a)+', 'aa', true, true],
    ['(?:\\b)*a', 'a', true, true],
  ])('%j on %j: fullmatch %p, search %p', (pattern, input, full, search) => {
    const compiled = compilePattern(pattern);
    expect(compiled.fullMatch(input)).toBe(full);
    expect(compiled.search(input)).toBe(search);
  });
});

describe('pattern errors', () => {
  it.each([
    ['(', 'missing ), unterminated subpattern', 0],
    ['a(b', 'missing ), unterminated subpattern', 1],
    ['a)', 'unbalanced parenthesis', 1],
    ['[a', 'unterminated character set', 0],
    ['[', 'unterminated character set', 0],
    ['[]', 'unterminated character set', 0],
    ['[z-a]', 'bad character range', 1],
    ['[\\d-z]', 'bad character range', 1],
    ['*a', 'nothing to repeat', 0],
    ['a|*', 'nothing to repeat', 2],
    ['(*)', 'nothing to repeat', 1],
    ['^*', 'nothing to repeat', 0],
    ['\\b+', 'nothing to repeat', 0],
    ['{2}', 'nothing to repeat', 0],
    ['a**', 'multiple repeat', 2],
    ['a{2}{3}', 'multiple repeat', 4],
    ['a*??', 'multiple repeat', 3],
    ['a*+', 'possessive quantifiers are not supported', 2],
    ['a{3,2}', 'min repeat greater than max repeat', 1],
    ['a{1001}', 'repeat counts above 1000 are not supported', 1],
    ['(?:a{1000}){1000}', 'pattern is too complex', 0],
    ['\\', 'bad escape (end of pattern)', 0],
    ['\\q', 'bad escape \\q', 0],
    ['[\\q]', 'bad escape \\q', 1],
    ['\\8', 'backreferences are not supported', 0],
    ['(a)\\1', 'backreferences are not supported', 3],
    ['(?P<n>a)(?P=n)', 'backreferences are not supported', 8],
    ['\\777', 'octal escape value \\777 outside of range 0-0o377', 0],
    ['\\x4', 'incomplete escape \\x', 0],
    ['\\N{DASH}', '\\N{...} escapes are not supported', 0],
    ['(?=a)', 'lookahead and lookbehind are not supported', 0],
    ['(?!a)', 'lookahead and lookbehind are not supported', 0],
    ['(?<=a)', 'lookahead and lookbehind are not supported', 0],
    ['(?<!a)', 'lookahead and lookbehind are not supported', 0],
    ['(?>a)', 'atomic groups are not supported', 0],
    ['(?(1)a|b)', 'conditional groups are not supported', 0],
    ['(?<n>a)', 'unknown extension ?<', 0],
    ['(?P<1>a)', 'bad character in group name "1"', 3],
    ['(?Px)', 'unknown extension ?P', 0],
    ['(?x)a', "flag 'x' is not supported", 2],
    ['(?q)a', "unknown flag 'q'", 2],
    ['a(?i)', 'global flags not at the start of the expression', 1],
    ['(?#unterminated', 'missing ), unterminated comment', 0],
    ['a'.repeat(257), 'pattern longer than 256 characters', 256],
  ])('%j: %s at %d', (pattern, message, position) => {
    expect(syntaxError(pattern)).toEqual({ message, position });
  });

  it('accepts 256 characters', () => {
    expect(compilePattern('a'.repeat(256)).fullMatch('a'.repeat(256))).toBe(true);
  });
});

describe('cost', () => {
  it('matches in linear time where backtracking engines take exponential time', () => {
    const started = Date.now();
    for (const pattern of ['(a+)+$', '(a|aa)+$', '(a*)*b', '(x+x+)+y', '(\\w+\\s?)+$', '(.*a){20}']) {
      const compiled = compilePattern(pattern);
      expect(compiled.fullMatch(`${'a'.repeat(2000)}!`)).toBe(false);
      expect(compiled.search(`${'x'.repeat(500)}!`)).toBe(false);
    }
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('charges the caller budget and throws past it', () => {
    const compiled = compilePattern('[ab]*c');
    const budget = { regexSteps: 1_000_000 };
    expect(compiled.search('ab'.repeat(100), budget)).toBe(false);
    expect(budget.regexSteps).toBeLessThan(1_000_000);
    const small = { regexSteps: 50 };
    expect(() => compiled.search('ab'.repeat(100), small)).toThrow(RuleEvaluationError);
    expect(() => compiled.search('', { regexSteps: 0 })).toThrow(RuleEvaluationError);
  });

  it('keeps patterns independent although they share scratch space', () => {
    const digits = compilePattern('[0-9]+');
    const letters = compilePattern('(?:[a-z]|_)+');
    for (let i = 0; i < 50; i++) {
      const input = i % 2 === 0 ? 'abc_def' : '12345';
      expect(digits.fullMatch(input)).toBe(i % 2 === 1);
      expect(letters.fullMatch(input)).toBe(i % 2 === 0);
      expect(letters.search(input)).toBe(i % 2 === 0);
    }
  });

  it('rejects inputs over 4096 characters', () => {
    expect(() => compilePattern('a*').fullMatch('a'.repeat(4097))).toThrow(RuleEvaluationError);
  });

  it('caches compiled patterns and errors', () => {
    expect(cachedPattern('ab+')).toBe(cachedPattern('ab+'));
    const first = (() => {
      try {
        cachedPattern('(');
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(first).toBeInstanceOf(RegexSyntaxError);
    expect(() => cachedPattern('(')).toThrow(first as Error);
  });
});

/**
 * Differential test against V8's RegExp on the part of the syntax where Python and JS agree (ASCII, no `$`
 * before a newline, no Unicode classes). Inputs are short so V8's backtracking stays cheap.
 */
describe('agrees with RegExp on the common subset', () => {
  type Re =
    | { t: 'lit'; c: string }
    | { t: 'dot' }
    | { t: 'cls'; body: string }
    | { t: 'anchor'; a: string }
    | { t: 'cat'; items: Re[] }
    | { t: 'alt'; left: Re; right: Re }
    | { t: 'rep'; node: Re; q: string };

  const atom = fc.oneof(
    fc.constantFrom('a', 'b', 'c', '1', ' ', '-').map((c): Re => ({ t: 'lit', c })),
    fc.constantFrom('\\.', '\\*').map((c): Re => ({ t: 'lit', c })),
    fc.constant<Re>({ t: 'dot' }),
    fc
      .constantFrom('[ab]', '[^a]', '[a-c1]', '\\d', '\\w', '\\s', '\\W', '[\\d ]', '[-a]', '[^-b]')
      .map((body): Re => ({ t: 'cls', body })),
    fc.constantFrom('^', '$', '\\b', '\\B', '\\A', '\\Z').map((a): Re => ({ t: 'anchor', a })),
  );

  const { re } = fc.letrec<{ re: Re }>((tie) => ({
    re: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      atom,
      fc.array(tie('re'), { minLength: 0, maxLength: 4 }).map((items): Re => ({ t: 'cat', items })),
      fc.tuple(tie('re'), tie('re')).map(([left, right]): Re => ({ t: 'alt', left, right })),
      fc
        .tuple(tie('re'), fc.constantFrom('*', '+', '?', '{2}', '{1,3}', '{0,2}', '{2,}', '*?', '+?', '??'))
        .map(([node, q]): Re => ({ t: 'rep', node, q })),
    ),
  }));

  function print(node: Re): string {
    switch (node.t) {
      case 'lit':
        return node.c;
      case 'dot':
        return '.';
      case 'cls':
        return node.body;
      case 'anchor':
        return node.a;
      case 'cat':
        return node.items.map((item) => (item.t === 'alt' ? `(?:${print(item)})` : print(item))).join('');
      case 'alt':
        return `${print(node.left)}|${print(node.right)}`;
      case 'rep':
        // Python refuses to repeat a bare anchor ("nothing to repeat"); a group around it is fine in both.
        return `(?:${print(node.node)})${node.q}`;
    }
  }

  function toJs(pattern: string): string {
    return pattern.replace(/\\A/g, '^').replace(/\\Z/g, '$');
  }

  const input = fc.string({
    unit: fc.constantFrom('a', 'b', 'c', 'A', 'B', '1', ' ', '-', '.', '*'),
    maxLength: 10,
  });

  it('fullmatch and search', () => {
    fc.assert(
      fc.property(
        re,
        fc.boolean(),
        fc.array(input, { minLength: 1, maxLength: 5 }),
        (tree, ignoreCase, inputs) => {
          const pattern = `${ignoreCase ? '(?i)' : ''}${print(tree)}`;
          const body = toJs(print(tree));
          const flags = ignoreCase ? 'i' : '';
          // Every generated shape is valid Python, so compiling must succeed.
          const compiled = compilePattern(pattern);
          const full = new RegExp(`^(?:${body})$`, flags);
          const anywhere = new RegExp(body, flags);
          for (const s of inputs) {
            expect([pattern, s, compiled.fullMatch(s)]).toEqual([pattern, s, full.test(s)]);
            expect([pattern, s, compiled.search(s)]).toEqual([pattern, s, anywhere.test(s)]);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
