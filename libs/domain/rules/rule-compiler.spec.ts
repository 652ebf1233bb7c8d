import {
  compileRule,
  compileRuleCached,
  InvalidRuleError,
  MAX_RULE_DEPTH,
  MAX_RULE_LENGTH,
  RULE_VARIABLE_NAMES,
  RuleCompiler,
} from './index.js';

function errorOf(text: string): { message: string; position: number } {
  try {
    compileRule(text);
  } catch (e) {
    if (e instanceof InvalidRuleError) return { message: e.message, position: e.position };
    throw e;
  }
  throw new Error(`expected ${text} to be rejected`);
}

describe('compileRule', () => {
  it('compiles the examples of docs/rules.md', () => {
    const vars = {
      account: '8c2e',
      twin_status: 'alive',
      now: 1_800_000_000,
      TWIN: { kind: 'pallet' },
      DICT: { site: 'WAW-17' },
    };
    expect(compileRule('account in ["3b1d…", "8c2e"]').evaluate(vars)).toBe(true);
    expect(compileRule('TWIN.kind == "pallet" and DICT.site =~ "WAW-[0-9]+"').evaluate(vars)).toBe(true);
    expect(compileRule('twin_status == "alive" and now < 1900000000').evaluate(vars)).toBe(true);
    expect(compileRule('twin_status == "alive" and now < 1900000000').evaluate({ ...vars, now: 2e9 })).toBe(
      false,
    );
  });

  it('keeps the source text exactly', () => {
    expect(compileRule(' account  ==  "x" ').source).toBe(' account  ==  "x" ');
  });

  it('lists the top-level variables the rule reads', () => {
    expect([...compileRule('TWIN.kind == USER.kind and "x" in DICT and TWIN.a').variables].sort()).toEqual([
      'DICT',
      'TWIN',
      'USER',
    ]);
    expect([...compileRule('true').variables]).toEqual([]);
    expect([...compileRule('{"account": 1}.account').variables]).toEqual([]);
    expect([...compileRule('TWIN.account').variables]).toEqual(['TWIN']);
    expect(
      [...compileRule('false and now > 1 ? role : [identity, {twin: twin_owner}]').variables].sort(),
    ).toEqual(['identity', 'now', 'role', 'twin', 'twin_owner']);
  });

  it('accepts every variable of docs/rules.md and nothing else', () => {
    expect(RULE_VARIABLE_NAMES).toEqual([
      'account',
      'user',
      'role',
      'now',
      'twin',
      'identity',
      'twin_owner',
      'twin_status',
      'TWIN',
      'USER',
      'DICT',
    ]);
    for (const name of RULE_VARIABLE_NAMES) expect(() => compileRule(name)).not.toThrow();
  });

  it.each([
    ['foo == 1', "unknown variable 'foo'", 0],
    ['account == 1 and Twin.kind', "unknown variable 'Twin'", 17],
    ['twin.kind == 1 or TWINS', "unknown variable 'TWINS'", 18],
    ['[1, {"k": constructor}]', "unknown variable 'constructor'", 10],
    ['__proto__', "unknown variable '__proto__'", 0],
    ['toString', "unknown variable 'toString'", 0],
    ['{1: 2}', 'mapping keys must be strings', 1],
    ['{"a": 1, null: 2}', 'mapping keys must be strings', 9],
    ['DICT.x =~ 5', 'a regular expression must be a string', 10],
    ['DICT.x =~~ null', 'a regular expression must be a string', 11],
    [
      'DICT.x =~ "("',
      'invalid regular expression: missing ), unterminated subpattern (at pattern offset 0)',
      10,
    ],
    ['DICT.x =~~ "a**"', 'invalid regular expression: multiple repeat (at pattern offset 2)', 11],
    ['DICT.x !~ "[z-a]"', 'invalid regular expression: bad character range (at pattern offset 1)', 10],
    ['DICT.x !~~ "\\\\q"', 'invalid regular expression: bad escape \\q (at pattern offset 0)', 11],
    [
      '1 and DICT.x =~ "(a)\\\\1"',
      'invalid regular expression: backreferences are not supported (at pattern offset 3)',
      16,
    ],
    [
      'DICT.x =~ "(?=a)"',
      'invalid regular expression: lookahead and lookbehind are not supported (at pattern offset 0)',
      10,
    ],
    ['a b', "unexpected 'b'", 2],
    ['account ==', 'unexpected end of rule', 10],
    ['', 'empty rule', 0],
  ])('rejects %j: %s at %d', (text, message, position) => {
    expect(errorOf(text)).toEqual({ message, position });
  });

  it(`rejects regex literals longer than 256 characters`, () => {
    expect(() => compileRule(`DICT.x =~ "${'a'.repeat(256)}"`)).not.toThrow();
    expect(errorOf(`DICT.x =~ "${'a'.repeat(257)}"`)).toEqual({
      message: 'invalid regular expression: pattern longer than 256 characters (at pattern offset 256)',
      position: 10,
    });
  });

  it(`accepts ${MAX_RULE_LENGTH} characters and rejects more`, () => {
    const padded = (n: number): string => `account == "${'x'.repeat(n - 'account == ""'.length)}"`;
    expect(padded(MAX_RULE_LENGTH)).toHaveLength(MAX_RULE_LENGTH);
    expect(() => compileRule(padded(MAX_RULE_LENGTH))).not.toThrow();
    expect(errorOf(padded(MAX_RULE_LENGTH + 1))).toEqual({
      message: 'rule longer than 2048 characters',
      position: MAX_RULE_LENGTH,
    });
    // Checked before parsing, so a huge text costs nothing.
    expect(errorOf('('.repeat(1_000_000)).message).toBe('rule longer than 2048 characters');
  });

  it(`accepts ${MAX_RULE_DEPTH} levels and rejects more`, () => {
    expect(() => compileRule(`${'('.repeat(MAX_RULE_DEPTH)}true${')'.repeat(MAX_RULE_DEPTH)}`)).not.toThrow();
    expect(errorOf(`${'('.repeat(MAX_RULE_DEPTH + 1)}true${')'.repeat(MAX_RULE_DEPTH + 1)}`)).toEqual({
      message: 'rule is nested deeper than 32 levels',
      position: MAX_RULE_DEPTH,
    });
  });

  it('evaluates the longest possible flat rule without trouble', () => {
    // 1,024 operands: a syntax tree 1,023 levels deep on its left spine.
    const rule = compileRule(Array.from({ length: 1024 }, () => '1').join('+'));
    expect(rule.source.length).toBeLessThanOrEqual(MAX_RULE_LENGTH);
    expect(rule.explain({})).toMatchObject({ ok: true, value: 1024 });
  });

  it('returns the syntax tree', () => {
    expect(compileRule('not account').ast).toMatchObject({ kind: 'unary', op: 'not' });
  });
});

describe('RuleCompiler', () => {
  it('compiles each distinct text once', () => {
    const compiler = new RuleCompiler();
    const a = compiler.compile('account == "x"');
    expect(compiler.compile('account == "x"')).toBe(a);
    expect(compiler.compile('account == "y"')).not.toBe(a);
    expect(compiler.size).toBe(2);
  });

  it('evicts the least recently used text beyond its capacity', () => {
    const compiler = new RuleCompiler({ maxEntries: 2 });
    const a = compiler.compile('1');
    const b = compiler.compile('2');
    expect(compiler.compile('1')).toBe(a);
    compiler.compile('3');
    expect(compiler.size).toBe(2);
    expect(compiler.compile('1')).toBe(a);
    expect(compiler.compile('2')).not.toBe(b);
  });

  it('does not cache invalid texts and rethrows their error each time', () => {
    const compiler = new RuleCompiler();
    expect(() => compiler.compile('foo')).toThrow(InvalidRuleError);
    expect(() => compiler.compile('foo')).toThrow(InvalidRuleError);
    expect(compiler.size).toBe(0);
  });

  it('passes the step budget on', () => {
    const compiler = new RuleCompiler({ stepBudget: 3 });
    expect(compiler.compile('1 + 1').evaluate({})).toBe(true);
    expect(compiler.compile('1 + 1 + 1').evaluate({})).toBe(false);
  });

  it('clears', () => {
    const compiler = new RuleCompiler();
    compiler.compile('1');
    compiler.clear();
    expect(compiler.size).toBe(0);
  });
});

describe('compileRuleCached', () => {
  it('shares one compiled rule per text across callers', () => {
    expect(compileRuleCached('twin_status == "alive"')).toBe(compileRuleCached('twin_status == "alive"'));
    expect(() => compileRuleCached('nope')).toThrow(InvalidRuleError);
  });
});
