import { compileRule } from './rule-compiler.js';
import type { RuleVariables } from './rule-types.js';

const VARS: RuleVariables = {
  account: '3b1d0000-0000-4000-8000-000000000001',
  user: 'u-1',
  role: 'r-1',
  now: 1_700_000_000,
  twin: 't-1',
  identity: 'RFID#be144bdc',
  twin_owner: 'o-1',
  twin_status: 'alive',
  TWIN: {
    kind: 'pallet',
    'serial-no': 'SN-7',
    weight: 12.5,
    count: 3,
    zero: 0,
    empty: '',
    list: [],
    map: {},
    tags: ['a', 'b', { x: 1 }, null],
    nested: { a: { b: { c: 'deep' } } },
    nothing: null,
    flag: true,
  },
  USER: { department: 'logistics', level: 4 },
  DICT: { site: 'WAW-12', sites: ['WAW', 'KRK', 'GDN'], n: 5, s: '5' },
};

const ERROR = Symbol('error');

function value(text: string, vars: RuleVariables = VARS): unknown {
  const outcome = compileRule(text).explain(vars);
  return outcome.ok ? outcome.value : ERROR;
}

type Row = [string, unknown];

function table(rows: Row[]): void {
  it.each(rows)('%s ⇒ %p', (text, expected) => {
    const got = value(text);
    if (expected === ERROR) expect(got).toBe(ERROR);
    else expect(got).toEqual(expected);
    // evaluate() agrees with explain(): truthy value ⇒ true, error ⇒ false, and never throws.
    const truthy =
      expected !== ERROR &&
      expected !== null &&
      expected !== false &&
      expected !== 0 &&
      expected !== '' &&
      !(Array.isArray(expected) && expected.length === 0) &&
      !(typeof expected === 'object' && expected !== null && Object.keys(expected).length === 0);
    expect(compileRule(text).evaluate(VARS)).toBe(truthy);
  });
}

describe('literals', () => {
  table([
    ['1', 1],
    ['1.5', 1.5],
    ['1e3', 1000],
    ['-2', -2],
    ['"a"', 'a'],
    ["'b'", 'b'],
    ['true', true],
    ['false', false],
    ['null', null],
    ['[1, "a", null, [true]]', [1, 'a', null, [true]]],
    ['{"k": 1, "j": [2]}', { k: 1, j: [2] }],
    ['{"k": 1, "k": 2}', { k: 2 }],
    ['{account: 1}', { '3b1d0000-0000-4000-8000-000000000001': 1 }],
    ['{twin_status: now}', { alive: 1_700_000_000 }],
    ['{TWIN.count: 1}', ERROR],
  ]);
});

describe('variables, attributes and items', () => {
  table([
    ['account', '3b1d0000-0000-4000-8000-000000000001'],
    ['now', 1_700_000_000],
    ['TWIN.kind', 'pallet'],
    ['TWIN["serial-no"]', 'SN-7'],
    ['TWIN.missing', null],
    ['TWIN["missing"]', null],
    ['TWIN.nothing', null],
    ['TWIN.nested.a.b.c', 'deep'],
    ['TWIN.nested["a"]["b"].c', 'deep'],
    ['DICT.sites[0]', 'WAW'],
    ['DICT.sites[2]', 'GDN'],
    ['DICT.sites[-1]', 'GDN'],
    ['DICT.sites[-3]', 'WAW'],
    ['DICT.sites[3]', ERROR],
    ['DICT.sites[-4]', ERROR],
    ['DICT.sites[0.5]', ERROR],
    ['DICT.sites["0"]', ERROR],
    ['DICT.sites.length', ERROR],
    ['TWIN.tags[2].x', 1],
    ['TWIN.tags[3]', null],
    ['"abc"[1]', 'b'],
    ['"abc"[-1]', 'c'],
    ['"a😀b"[1]', '😀'],
    ['"a😀b"[-1]', 'b'],
    ['"abc"[3]', ERROR],
    ['TWIN.kind.x', ERROR],
    ['TWIN.count.x', ERROR],
    ['TWIN[0]', ERROR],
    ['TWIN.count[0]', ERROR],
    // Missing attributes are null; reading through null is an error unless navigation is safe.
    ['TWIN.missing.x', ERROR],
    ['TWIN.missing["x"]', ERROR],
    ['TWIN.missing&.x', null],
    ['TWIN.missing&["x"]', null],
    ['TWIN.missing&[TWIN.missing.x]', null],
    ['TWIN&.nested&.a&.b&.c', 'deep'],
    ['TWIN.missing&.x&.y', null],
    // Safe navigation protects one step, not the rest of the chain (rule-engine semantics).
    ['TWIN.missing&.x.y', ERROR],
    ['TWIN.kind&.x', ERROR],
    ['null&.x', null],
    ['null.x', ERROR],
    // Only own keys: prototype members are not attributes.
    ['TWIN.constructor', null],
    ['TWIN.toString', null],
    ['TWIN["__proto__"]', null],
    ['TWIN.hasOwnProperty', null],
    ['{"a": 1}.a', 1],
    ['[10, 20][1]', 20],
  ]);

  it('missing variables are null', () => {
    expect(compileRule('TWIN == null and DICT == null and account == null').evaluate({})).toBe(true);
    expect(compileRule('TWIN.kind').explain({}).ok).toBe(false);
    expect(compileRule('TWIN&.kind == null').evaluate({})).toBe(true);
    expect(compileRule('now').explain({ now: undefined }).ok && compileRule('now == null').evaluate({})).toBe(
      true,
    );
  });

  it('reads own keys of JSON including a literal __proto__ key', () => {
    const DICT = JSON.parse('{"__proto__": {"x": 1}}') as Record<string, unknown>;
    expect(compileRule('DICT["__proto__"].x == 1').evaluate({ DICT })).toBe(true);
  });
});

describe('arithmetic', () => {
  table([
    ['1 + 2', 3],
    ['1 - 2', -1],
    ['2 * 3.5', 7],
    ['7 / 2', 3.5],
    ['7 % 3', 1],
    ['-7 % 3', -1],
    ['7.5 % 2', 1.5],
    ['2 ** 10', 1024],
    ['2 ** -1', 0.5],
    ['-2 ** 2', -4],
    ['(-2) ** 2', 4],
    ['2 ** 3 ** 2', 512],
    ['- -3', 3],
    ['-TWIN.count', -3],
    ['TWIN.weight * 2', 25],
    ['1 + 2 * 3', 7],
    ['(1 + 2) * 3', 9],
    ['10 - 2 - 3', 5],
    ['"a" + "b"', 'ab'],
    ['TWIN.kind + "-" + DICT.site', 'pallet-WAW-12'],
    ['"" + ""', ''],
    ['1 / 0', ERROR],
    ['1 % 0', ERROR],
    ['0 / 0', ERROR],
    ['0 ** -1', ERROR],
    ['(-8) ** 0.5', ERROR],
    ['10 ** 400', ERROR],
    ['1e308 * 10', ERROR],
    ['"a" + 1', ERROR],
    ['1 + "a"', ERROR],
    ['"a" - "b"', ERROR],
    ['"a" * 2', ERROR],
    ['[1] + [2]', ERROR],
    ['1 + true', ERROR],
    ['1 + null', ERROR],
    ['null + null', ERROR],
    ['DICT.n + DICT.s', ERROR],
    ['TWIN.missing + 1', ERROR],
    ['-"a"', ERROR],
    ['-null', ERROR],
    ['-true', ERROR],
  ]);
});

describe('comparison', () => {
  table([
    ['1 == 1', true],
    ['1 == 1.0', true],
    ['1 != 2', true],
    ['"a" == "a"', true],
    ['"a" == "b"', false],
    ['null == null', true],
    ['TWIN.missing == null', true],
    ['TWIN.nothing == null', true],
    ['null != 0', true],
    ['1 == "1"', false],
    ['1 == true', false],
    ['0 == false', false],
    ['"" == null', false],
    ['[] == {}', false],
    ['[1, [2, {"a": 3}]] == [1, [2, {"a": 3}]]', true],
    ['[1, 2] == [2, 1]', false],
    ['[1, 2] == [1, 2, 3]', false],
    ['{"a": 1, "b": 2} == {"b": 2, "a": 1}', true],
    ['{"a": 1} == {"a": 1, "b": 2}', false],
    ['{"a": 1, "b": 2} == {"a": 1}', false],
    ['{"a": null} == {}', false],
    ['TWIN.list == []', true],
    ['TWIN.map == {}', true],
    ['DICT.sites == ["WAW", "KRK", "GDN"]', true],
    ['DICT.sites != ["WAW"]', true],
    ['1 < 2', true],
    ['2 <= 2', true],
    ['3 > 2', true],
    ['2 >= 3', false],
    ['-1 < 0', true],
    ['"a" < "b"', true],
    ['"B" < "a"', true],
    ['"abc" < "abd"', true],
    ['"ab" < "abc"', true],
    ['"" < "a"', true],
    // Code point order, not UTF-16 unit order: U+FF5E sorts below U+1F600.
    ['"～" < "😀"', true],
    ['now < 1900000000', true],
    ['1 < "2"', ERROR],
    ['"1" < 2', ERROR],
    ['null < 1', ERROR],
    ['1 >= null', ERROR],
    ['TWIN.missing > 0', ERROR],
    ['true < false', ERROR],
    ['[1] < [2]', ERROR],
    ['{} <= {}', ERROR],
  ]);
});

describe('boolean logic and truthiness', () => {
  table([
    ['true and true', true],
    ['true and false', false],
    ['false or true', true],
    ['false or false', false],
    ['not true', false],
    ['not false', true],
    ['not null', true],
    ['not 0', true],
    ['not 0.0', true],
    ['not 1', false],
    ['not -1', false],
    ['not ""', true],
    ['not "x"', false],
    ['not []', true],
    ['not [0]', false],
    ['not {}', true],
    ['not {"a": null}', false],
    ['not TWIN.missing', true],
    ['not TWIN.zero', true],
    ['not TWIN.empty', true],
    ['not TWIN.list', true],
    ['not TWIN.map', true],
    ['not TWIN.tags', false],
    ['1 and "x"', true],
    ['0 or ""', false],
    // Short-circuit: the right side is not evaluated, so its error does not matter.
    ['false and 1 / 0', false],
    ['true or 1 / 0', true],
    ['true and 1 / 0', ERROR],
    ['false or 1 / 0', ERROR],
    ['not (1 / 0)', ERROR],
    ['true ? 1 : 2', 1],
    ['false ? 1 : 2', 2],
    ['null ? 1 : 2', 2],
    ['[] ? 1 : 2', 2],
    ['"x" ? "yes" : 1 / 0', 'yes'],
    ['0 ? 1 / 0 : "no"', 'no'],
    ['TWIN.kind == "pallet" ? DICT.n : 0', 5],
    ['(1 / 0) ? 1 : 2', ERROR],
  ]);
});

describe('membership', () => {
  table([
    ['1 in [1, 2]', true],
    ['3 in [1, 2]', false],
    ['3 not in [1, 2]', true],
    ['"1" in [1, 2]', false],
    ['true in [1]', false],
    ['null in [null]', true],
    ['null in [0, false, ""]', false],
    ['0 in [-0]', true],
    ['account in ["x", "3b1d0000-0000-4000-8000-000000000001"]', true],
    ['account not in ["x"]', true],
    ['[1] in [[1], 2]', true],
    ['{"a": [1]} in [{"a": [1]}]', true],
    ['{"x": 1} in TWIN.tags', true],
    ['null in TWIN.tags', true],
    ['"KRK" in DICT.sites', true],
    ['"POZ" in DICT.sites', false],
    ['DICT.site in [TWIN.kind, "WAW-12"]', true],
    ['[1] in [1, 2]', false],
    ['"ell" in "hello"', true],
    ['"" in "hello"', true],
    ['"x" in "hello"', false],
    ['"x" not in "hello"', true],
    ['1 in "hello"', ERROR],
    ['null in "hello"', ERROR],
    ['"kind" in TWIN', true],
    ['"missing" in TWIN', false],
    ['"nothing" in TWIN', true],
    ['"constructor" in TWIN', false],
    ['1 in {"1": 1}', false],
    ['"k" in {"k": 1}', true],
    ['"site" not in DICT', false],
    ['1 in null', ERROR],
    ['1 not in null', ERROR],
    ['1 in TWIN.missing', ERROR],
    ['1 in 1', ERROR],
    ['1 in true', ERROR],
  ]);
});

describe('regular expressions', () => {
  table([
    ['DICT.site =~ "WAW-[0-9]+"', true],
    ['DICT.site =~ "WAW"', false],
    ['DICT.site =~~ "WAW"', true],
    ['DICT.site =~~ "^AW"', false],
    ['DICT.site !~ "WAW"', true],
    ['DICT.site !~~ "WAW"', false],
    ['DICT.site =~ "waw-\\d+"', false],
    ['DICT.site =~ "(?i)waw-\\d+"', true],
    ['identity =~ "RFID#[0-9a-f]+"', true],
    ['identity =~ "[A-Z]+#.*"', true],
    ['"" =~ ""', true],
    ['"" =~ "a*"', true],
    ['"abc\\n" =~~ "abc$"', true],
    ['"abc\\n" =~ "abc$"', false],
    ['TWIN.count =~ "3"', ERROR],
    ['TWIN.missing =~ "x"', ERROR],
    ['TWIN.missing !~ "x"', ERROR],
    ['TWIN.tags =~~ "a"', ERROR],
    // Patterns computed at evaluation time are compiled (and cached) then; an invalid one is an error.
    ['DICT.site =~ DICT.sites[0] + "-12"', true],
    ['DICT.site =~ TWIN.count', ERROR],
    ['DICT.site =~ "(" + ""', ERROR],
    ['DICT.site =~~ TWIN.kind + "("', ERROR],
    ['DICT.site =~~ TWIN&.missing', ERROR],
  ]);

  it('limits the input length', () => {
    const rule = compileRule('DICT.s =~ "a*"');
    expect(rule.evaluate({ DICT: { s: 'a'.repeat(4096) } })).toBe(true);
    expect(rule.evaluate({ DICT: { s: 'a'.repeat(4097) } })).toBe(false);
    expect(rule.explain({ DICT: { s: 'a'.repeat(4097) } })).toMatchObject({
      ok: false,
      error: 'regex input longer than 4096 characters',
    });
  });

  it('limits the pattern length of computed patterns', () => {
    const rule = compileRule('"a" =~ DICT.p');
    expect(rule.evaluate({ DICT: { p: `${'a?'.repeat(127)}a` } })).toBe(true);
    expect(rule.explain({ DICT: { p: `a${'?'.repeat(256)}` } })).toMatchObject({ ok: false });
  });

  it('stays fast on patterns that are catastrophic for backtracking engines', () => {
    const rules = [
      compileRule('DICT.s =~ "(a+)+$"'),
      compileRule('DICT.s =~~ "(a|a)*b"'),
      compileRule('DICT.s =~ "(a*)*b"'),
      compileRule('DICT.s =~ "(\\\\w+\\\\s?)+$"'),
    ];
    const started = Date.now();
    for (const rule of rules) {
      for (const s of ['a'.repeat(40) + '!', 'a'.repeat(4000) + '!'])
        expect(rule.evaluate({ DICT: { s } })).toBe(false);
    }
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('bounds the total regex work of one evaluation and fails closed beyond it', () => {
    // Regex steps are charged to the evaluation's step ceiling (REGEX_STEPS_PER_STEP), so one costly pattern over
    // a 512-character input fits and twenty do not.
    const s = 'ab'.repeat(256);
    const one = compileRule('DICT.s =~~ "(a|b|c|d|e|f)*z"');
    expect(one.explain({ DICT: { s } }).ok).toBe(true);
    const many = compileRule(Array.from({ length: 20 }, () => 'DICT.s =~~ "(a|b|c|d|e|f)*z"').join(' or '));
    expect(many.explain({ DICT: { s } })).toMatchObject({
      ok: false,
      error: expect.stringMatching(/regular expression too expensive|step budget exceeded/),
    });
    // The budget is per evaluation: the next one starts afresh.
    expect(one.explain({ DICT: { s } }).ok).toBe(true);
    expect(many.evaluate({ DICT: { s: 'z' } })).toBe(true);
  });
});

describe('step budget', () => {
  it('charges one step per evaluated node', () => {
    expect(compileRule('1 + 2 * 3').explain({}).steps).toBe(5);
    expect(compileRule('false and account').explain({}).steps).toBe(2);
  });

  it('charges scans and deep comparisons by size, and fails closed past the budget', () => {
    const big = Array.from({ length: 20_000 }, (_, i) => i);
    expect(compileRule('5 in DICT.big', { stepBudget: 100_000 }).evaluate({ DICT: { big } })).toBe(true);
    expect(compileRule('5 in DICT.big').evaluate({ DICT: { big } })).toBe(false);
    expect(compileRule('5 in DICT.big').explain({ DICT: { big } })).toMatchObject({
      ok: false,
      error: 'step budget exceeded',
    });
    expect(compileRule('DICT.big == DICT.big2').explain({ DICT: { big, big2: [...big] } })).toMatchObject({
      ok: false,
      error: 'step budget exceeded',
    });
    expect(
      compileRule('DICT.small == DICT.small2').evaluate({ DICT: { small: [1, [2]], small2: [1, [2]] } }),
    ).toBe(true);
  });

  it('fails closed on absurdly nested data instead of overflowing the stack', () => {
    let a: unknown = 1;
    let b: unknown = 1;
    for (let i = 0; i < 5000; i++) {
      a = [a];
      b = [b];
    }
    const rule = compileRule('DICT.a == DICT.b', { stepBudget: 1_000_000 });
    expect(rule.explain({ DICT: { a, b } })).toMatchObject({ ok: false, error: 'value nested too deeply' });
  });

  it('resets the budget for every evaluation', () => {
    const rule = compileRule('1 in DICT.l', { stepBudget: 20 });
    for (let i = 0; i < 5; i++)
      expect(rule.evaluate({ DICT: { l: [0, 0, 0, 0, 0, 0, 0, 0, 0, 1] } })).toBe(true);
  });
});

describe('evaluate', () => {
  it('returns true only for truthy results', () => {
    expect(compileRule('"x"').evaluate({})).toBe(true);
    expect(compileRule('[0]').evaluate({})).toBe(true);
    expect(compileRule('0').evaluate({})).toBe(false);
    expect(compileRule('{}').evaluate({})).toBe(false);
  });

  it('never throws, whatever the variables hold', () => {
    const hostile = {
      get kind(): string {
        throw new Error('boom');
      },
    };
    const weird: RuleVariables = {
      TWIN: hostile,
      DICT: { f: () => 1, sym: Symbol('s'), big: BigInt(1), nan: NaN, inf: Infinity },
      now: NaN,
    };
    for (const text of [
      'TWIN.kind == 1',
      'DICT.f',
      'not DICT.sym',
      'DICT.big + 1',
      'DICT.nan == DICT.nan',
      'DICT.inf > now',
      'now + 1',
      'DICT.f in [1]',
    ]) {
      expect(() => compileRule(text).evaluate(weird)).not.toThrow();
    }
    expect(compileRule('DICT.nan == DICT.nan').evaluate(weird)).toBe(false);
    expect(compileRule('DICT.nan != DICT.nan').evaluate(weird)).toBe(true);
    expect(compileRule('DICT.nan < 1 or DICT.nan >= 1').evaluate(weird)).toBe(false);
    expect(compileRule('DICT.nan in DICT.list').evaluate({ DICT: { nan: NaN, list: [NaN] } })).toBe(false);
  });

  it('can be re-entered from a getter without corrupting the outer evaluation', () => {
    const rule = compileRule('TWIN.a == 1 and TWIN.b == 2');
    const inner = { a: 1, b: 2 };
    const outer = {
      a: 1,
      get b(): number {
        rule.evaluate({ TWIN: inner });
        return 2;
      },
    };
    expect(rule.evaluate({ TWIN: outer })).toBe(true);
  });
});
