import type { IdentityRow, TwinFacts } from '../model.js';
import type { RuleVariables } from '../rules/rule-types.js';
import { canSeeIdentity, canSeeTwin, decideIdentity, isValid, TwinVariablesCache } from './visibility.js';
import {
  ACCOUNT_A,
  ACCOUNT_B,
  ACCOUNT_C,
  FALSE_RULE,
  fakeRule,
  makeCaller,
  makeRow,
  makeTwin,
  recording,
  THROWING_RULE,
  TRUE_RULE,
  TWIN_1,
  TWIN_2,
} from './test-fixtures.js';

const NOW = 1000;

describe('canSeeTwin', () => {
  const foreignTwin = makeTwin({ owner: ACCOUNT_B });
  it.each([
    ['own twin, no twin rule', makeCaller(), makeTwin(), true],
    ['own terminated twin', makeCaller(), makeTwin({ status: 'terminated' }), true],
    [
      'own twin, twin rule false (rule is for foreign twins only)',
      makeCaller({ twinRule: FALSE_RULE }),
      makeTwin(),
      true,
    ],
    ['foreign twin, twin rule null', makeCaller(), foreignTwin, false],
    ['foreign twin, twin rule true', makeCaller({ twinRule: TRUE_RULE }), foreignTwin, true],
    ['foreign twin, twin rule false', makeCaller({ twinRule: FALSE_RULE }), foreignTwin, false],
    ['foreign twin, twin rule throws', makeCaller({ twinRule: THROWING_RULE }), foreignTwin, false],
    [
      'foreign terminated twin, rule on status',
      makeCaller({ twinRule: fakeRule('twin_status == "alive"', (v) => v.twin_status === 'alive') }),
      makeTwin({ owner: ACCOUNT_B, status: 'terminated' }),
      false,
    ],
  ])('%s', (_label, caller, twin, expected) => {
    expect(canSeeTwin(caller, twin, NOW)).toBe(expected);
  });

  it('evaluates the twin rule with the twin variables and no identity', () => {
    let seen: RuleVariables | undefined;
    const caller = makeCaller({ twinRule: fakeRule('spy', (v) => ((seen = v), true)), dict: { site: 'X' } });
    canSeeTwin(caller, foreignTwin, NOW);
    expect(seen).toMatchObject({
      twin: TWIN_1,
      twin_owner: ACCOUNT_B,
      TWIN: { kind: 'pallet' },
      identity: null,
      now: NOW,
      DICT: { site: 'X' },
    });
  });
});

describe('isValid', () => {
  it.each([
    [null, true],
    [NOW + 0.001, true],
    [NOW, false],
    [NOW - 1, false],
  ])('validity_ts %p at now → %p', (validityTs, expected) => {
    expect(isValid(makeRow({ validityTs }), NOW)).toBe(expected);
  });
});

describe('canSeeIdentity', () => {
  const caller = makeCaller();
  const twin = makeTwin();
  const cases: [string, IdentityRow, boolean, boolean][] = [
    // label, row, allowExpiredPersonal, expected
    ['personal private valid', makeRow(), false, true],
    ['personal public(false) valid: owner always sees it', makeRow({ visibility: FALSE_RULE }), false, true],
    ['personal expired', makeRow({ validityTs: NOW }), false, false],
    ['personal expired with allowExpiredPersonal', makeRow({ validityTs: NOW }), true, true],
    ['foreign private', makeRow({ owner: ACCOUNT_B }), false, false],
    ['foreign public true', makeRow({ owner: ACCOUNT_B, visibility: TRUE_RULE }), false, true],
    ['foreign public false', makeRow({ owner: ACCOUNT_B, visibility: FALSE_RULE }), false, false],
    ['foreign public throwing', makeRow({ owner: ACCOUNT_B, visibility: THROWING_RULE }), false, false],
    [
      'foreign public true but expired',
      makeRow({ owner: ACCOUNT_B, visibility: TRUE_RULE, validityTs: NOW - 5 }),
      false,
      false,
    ],
    [
      'foreign public true but expired, even with allowExpiredPersonal',
      makeRow({ owner: ACCOUNT_B, visibility: TRUE_RULE, validityTs: NOW }),
      true,
      false,
    ],
    [
      'foreign public true, valid in future',
      makeRow({ owner: ACCOUNT_B, visibility: TRUE_RULE, validityTs: NOW + 1 }),
      false,
      true,
    ],
  ];
  it.each(cases)('%s', (_label, row, allowExpiredPersonal, expected) => {
    expect(canSeeIdentity(caller, row, twin, NOW, { allowExpiredPersonal })).toBe(expected);
  });

  it('defaults allowExpiredPersonal to false', () => {
    expect(canSeeIdentity(caller, makeRow({ validityTs: NOW }), twin, NOW)).toBe(false);
  });

  describe('role identity_rule', () => {
    it.each([
      ['null: no restriction', null, makeRow(), true],
      ['false hides even personal identities', FALSE_RULE, makeRow(), false],
      ['throwing hides', THROWING_RULE, makeRow(), false],
      [
        'true keeps a visible foreign identity',
        TRUE_RULE,
        makeRow({ owner: ACCOUNT_B, visibility: TRUE_RULE }),
        true,
      ],
      ['true does not reveal a private foreign identity', TRUE_RULE, makeRow({ owner: ACCOUNT_B }), false],
      [
        'reads the identity name',
        fakeRule('identity =~ "GTIN#.*"', (v) => v.identity?.startsWith('GTIN#') === true),
        makeRow({ name: 'RFID#1' }),
        false,
      ],
    ])('%s', (_label, identityRule, row, expected) => {
      expect(canSeeIdentity(makeCaller({ identityRule }), row, twin, NOW)).toBe(expected);
    });
  });

  it('evaluates visibility with the caller, the twin and the identity', () => {
    const seen: RuleVariables[] = [];
    const visibility = fakeRule('spy', (v) => (seen.push(v), true));
    const row = makeRow({ owner: ACCOUNT_B, visibility, name: 'GTIN#7', twin: TWIN_2 });
    const foreignCaller = makeCaller({ account: ACCOUNT_A, dict: { gate: 3 } });
    canSeeIdentity(foreignCaller, row, makeTwin({ uuid: TWIN_2, owner: ACCOUNT_B }), NOW);
    expect(seen).toEqual([
      expect.objectContaining({
        account: ACCOUNT_A,
        identity: 'GTIN#7',
        twin: TWIN_2,
        twin_owner: ACCOUNT_B,
        DICT: { gate: 3 },
        USER: { site: 'WAW' },
      }),
    ]);
  });

  it('without twin facts a rule sees the twin UUID but null TWIN', () => {
    let seen: RuleVariables | undefined;
    const row = makeRow({
      owner: ACCOUNT_B,
      visibility: fakeRule('spy', (v) => ((seen = v), v.TWIN !== null)),
    });
    expect(canSeeIdentity(caller, row, undefined, NOW)).toBe(false);
    expect(seen?.twin).toBe(TWIN_1);
  });

  it('builds the variables once for both rules of one row', () => {
    const seen: RuleVariables[] = [];
    const spy = fakeRule('spy', (v) => (seen.push(v), true));
    canSeeIdentity(
      makeCaller({ identityRule: spy }),
      makeRow({ owner: ACCOUNT_B, visibility: spy }),
      twin,
      NOW,
    );
    expect(seen).toHaveLength(2);
    expect(seen[0]).toBe(seen[1]);
  });

  it('evaluates no rule when validity or privacy already decide', () => {
    const spy = recording(() => true);
    const rule = fakeRule('spy', spy);
    const identityCaller = makeCaller({ identityRule: rule });
    canSeeIdentity(
      identityCaller,
      makeRow({ owner: ACCOUNT_B, visibility: rule, validityTs: NOW }),
      twin,
      NOW,
    );
    canSeeIdentity(identityCaller, makeRow({ owner: ACCOUNT_B }), twin, NOW);
    expect(spy.calls).toEqual([]);
  });
});

describe('TwinVariablesCache', () => {
  const twins = new Map<string, TwinFacts>([
    [TWIN_1, makeTwin()],
    [TWIN_2, makeTwin({ uuid: TWIN_2, owner: ACCOUNT_B })],
  ]);

  it('builds one object per (twin, name), looking each twin up once, in any row order', () => {
    const twinOf = recording((uuid: string) => twins.get(uuid));
    const cache = new TwinVariablesCache(makeCaller(), NOW, twinOf);
    const r1a = makeRow({ twin: TWIN_1, owner: ACCOUNT_A });
    const r1b = makeRow({ twin: TWIN_1, owner: ACCOUNT_B });
    const r2 = makeRow({ twin: TWIN_2, owner: ACCOUNT_B });
    const v1 = cache.forRow(r1a);
    expect(cache.forRow(r1b)).toBe(v1);
    const v2 = cache.forRow(r2);
    expect(v2).not.toBe(v1);
    expect(v2.twin_owner).toBe(ACCOUNT_B);
    expect(cache.forRow(r1a)).toBe(v1);
    expect(cache.forRow(r2)).toBe(v2);
    expect(twinOf.calls).toHaveLength(2);
    expect(cache.forRow(makeRow({ twin: TWIN_1, name: 'GTIN#2' })).identity).toBe('GTIN#2');
  });

  it('does not reuse the object of the same twin for another name', () => {
    const cache = new TwinVariablesCache(makeCaller(), NOW, (uuid) => twins.get(uuid));
    expect(cache.forRow(makeRow({ twin: TWIN_1, name: 'A#1' })).identity).toBe('A#1');
    expect(cache.forRow(makeRow({ twin: TWIN_1, name: 'A#2' })).identity).toBe('A#2');
    expect(cache.forRow(makeRow({ twin: TWIN_1, name: 'A#1' })).identity).toBe('A#1');
  });

  it('is used by decideIdentity', () => {
    const cache = new TwinVariablesCache(makeCaller(), NOW, (uuid) => twins.get(uuid));
    const rule = fakeRule('twin_owner == B', (v) => v.twin_owner === ACCOUNT_B, ['twin_owner']);
    const row = makeRow({ twin: TWIN_2, owner: ACCOUNT_B, visibility: rule });
    expect(decideIdentity(makeCaller(), row, NOW, false, cache)).toBe(true);
    expect(
      decideIdentity(makeCaller(), makeRow({ owner: ACCOUNT_B, visibility: rule }), NOW, false, cache),
    ).toBe(false);
  });
});

describe('synced grants (docs/sync.md include_foreign)', () => {
  const twin = makeTwin({ uuid: TWIN_1, owner: ACCOUNT_A });
  // Owned upstream by A, granted to B by B's sync source.
  const grant = makeRow({ owner: ACCOUNT_A, grantee: ACCOUNT_B, visibility: null });

  it('shows a grant to its grantee', () => {
    expect(canSeeIdentity(makeCaller({ account: ACCOUNT_B }), grant, twin, NOW)).toBe(true);
  });

  it('never shows a grant to the account it names as owner, nor to anyone else', () => {
    expect(canSeeIdentity(makeCaller({ account: ACCOUNT_A }), grant, twin, NOW)).toBe(false);
    expect(canSeeIdentity(makeCaller({ account: ACCOUNT_C }), grant, twin, NOW)).toBe(false);
    const withTrueRule = { ...grant, visibility: TRUE_RULE };
    expect(canSeeIdentity(makeCaller({ account: ACCOUNT_C }), withTrueRule, twin, NOW)).toBe(false);
  });

  it('hides an expired grant even with show_expired, and honours the role identity_rule', () => {
    const expired = { ...grant, validityTs: NOW - 1 };
    expect(
      canSeeIdentity(makeCaller({ account: ACCOUNT_B }), expired, twin, NOW, { allowExpiredPersonal: true }),
    ).toBe(false);
    expect(
      canSeeIdentity(makeCaller({ account: ACCOUNT_B, identityRule: FALSE_RULE }), grant, twin, NOW),
    ).toBe(false);
  });
});
