import fc from 'fast-check';
import { cachedPattern, checkPattern, compilePattern, RegexSyntaxError } from './rule-regex.js';
import { RuleEvaluationError } from './rule-values.js';
import { ERROR_CASES, MATCH_CASES } from './testing/regex-cases.js';

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
  it.each(MATCH_CASES)('%j on %j: fullmatch %p, search %p', (pattern, input, full, search) => {
    const compiled = compilePattern(pattern);
    expect(compiled.fullMatch(input)).toBe(full);
    expect(compiled.search(input)).toBe(search);
  });
});

describe('pattern errors', () => {
  it.each(ERROR_CASES)('%j: %s at %d', (pattern, message, position) => {
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

describe('checking a pattern without building it (issue #20)', () => {
  /** Outcome as comparable data: the program size, or the refusal. */
  function outcome(check: () => unknown): unknown {
    try {
      return { ok: check() };
    } catch (e) {
      if (e instanceof RegexSyntaxError) return { refused: e.message, at: e.position };
      throw e;
    }
  }

  it('measures the program it would build', () => {
    expect(checkPattern('a')).toBe(2);
    expect(checkPattern('a{2}')).toBe(3);
    expect(checkPattern('a*')).toBe(4);
    expect(checkPattern('a|b')).toBe(5);
    expect(checkPattern('(?:ab){1000}')).toBe(2001);
    expect(checkPattern('(?:a?){3}')).toBe(7);
  });

  it('refuses exactly what compiling refuses, around the program-size limit too', () => {
    const piece = fc.constantFrom('a', 'ab', '[a-z]', '(?:a|bc)', 'x*', '(?:ab)?', '.', '\\b', '(');
    const { pattern } = fc.letrec<{ pattern: string }>((tie) => ({
      pattern: fc.oneof(
        { depthSize: 'small' },
        piece,
        fc
          .tuple(
            tie('pattern'),
            fc.integer({ min: 0, max: 1000 }),
            fc.option(fc.integer({ min: 0, max: 600 })),
          )
          .map(([p, min, more]) => `(?:${p}){${min}${more === null ? '' : `,${min + more}`}}`),
        fc.tuple(tie('pattern'), tie('pattern')).map(([a, b]) => `${a}${b}`),
        fc.tuple(tie('pattern'), tie('pattern')).map(([a, b]) => `${a}|${b}`),
      ),
    }));
    fc.assert(
      fc.property(pattern, (source) => {
        const compiled = outcome(() => {
          compilePattern(source);
          return 'built';
        });
        const checked = outcome(() => checkPattern(source));
        if ('ok' in (compiled as object)) expect(checked).toEqual({ ok: expect.any(Number) as number });
        else expect(checked).toEqual(compiled);
      }),
      { numRuns: 500 },
    );
  });

  it('builds a program of the size it measured: the largest one matches at its very end', () => {
    // 2,048 instructions with the final match (one more `a` is refused); the copies of the repeated alternation
    // keep their jumps right.
    const source = '(?:a|b){500}a{47}';
    expect(checkPattern(source)).toBe(2048);
    const pattern = compilePattern(source);
    expect(pattern.fullMatch(`${'ab'.repeat(250)}${'a'.repeat(47)}`)).toBe(true);
    expect(pattern.fullMatch(`${'ba'.repeat(250)}${'a'.repeat(46)}`)).toBe(false);
    expect(pattern.fullMatch(`${'b'.repeat(499)}c${'a'.repeat(47)}`)).toBe(false);
    expect(() => compilePattern('(?:a|b){500}a{48}')).toThrow('pattern is too complex');
    expect(() => checkPattern('(?:a|b){500}a{48}')).toThrow('pattern is too complex');
  });
});
