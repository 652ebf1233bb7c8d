import type { IdentityRow } from '../model.js';
import {
  DEFAULT_IDENTITY_LIST_FILTERS,
  type IdentityListFilters,
  listIdentities,
  parseForeignFilter,
  parseIdentityListFilters,
  passesPersonalFilters,
} from './identity-filters.js';
import { InvalidParameterError } from './query-parameters.js';
import {
  ACCOUNT_A,
  ACCOUNT_B,
  ACCOUNT_C,
  FALSE_RULE,
  fakeRule,
  makeCaller,
  makeRow,
  makeTwin,
  TRUE_RULE,
} from './test-fixtures.js';

const NOW = 1000;

describe('parseIdentityListFilters', () => {
  it('defaults: personal valid public and private, no expired, no foreign', () => {
    expect(parseIdentityListFilters({})).toEqual({
      showPersonal: true,
      showValid: true,
      showExpired: false,
      showPublic: true,
      showPrivate: true,
      showForeign: { kind: 'none' },
    });
    expect(parseIdentityListFilters({})).toEqual(DEFAULT_IDENTITY_LIST_FILTERS);
  });

  it('reads every parameter, case-insensitively, ignoring unknown ones', () => {
    expect(
      parseIdentityListFilters({
        show_personal: 'FALSE',
        show_valid: 'False',
        show_expired: 'TRUE',
        show_public: 'false',
        show_private: 'false',
        show_foreign: 'True',
        unknown: 'whatever',
      }),
    ).toEqual({
      showPersonal: false,
      showValid: false,
      showExpired: true,
      showPublic: false,
      showPrivate: false,
      showForeign: { kind: 'all' },
    });
  });

  it.each(['show_personal', 'show_valid', 'show_expired', 'show_public', 'show_private', 'show_foreign'])(
    'a bad %s is an error naming it',
    (parameter) => {
      expect(() => parseIdentityListFilters({ [parameter]: 'maybe' })).toThrow(InvalidParameterError);
      try {
        parseIdentityListFilters({ [parameter]: 'maybe' });
      } catch (e) {
        expect((e as InvalidParameterError).parameter).toBe(parameter);
        expect((e as InvalidParameterError).message).toContain(`'${parameter}'`);
      }
    },
  );
});

describe('parseForeignFilter', () => {
  it.each([
    [undefined, { kind: 'none' }],
    ['false', { kind: 'none' }],
    ['FALSE', { kind: 'none' }],
    ['true', { kind: 'all' }],
    [true, { kind: 'all' }],
    [ACCOUNT_B, { kind: 'account', account: ACCOUNT_B }],
    [ACCOUNT_B.toUpperCase(), { kind: 'account', account: ACCOUNT_B }],
    [[ACCOUNT_B], { kind: 'account', account: ACCOUNT_B }],
  ])('%p → %p', (raw, expected) => {
    expect(parseForeignFilter(raw)).toEqual(expected);
  });

  it.each([
    ['yes', "must be true, false or an account UUID, not 'yes'"],
    ['', "must be true, false or an account UUID, not ''"],
    [`${ACCOUNT_B},${ACCOUNT_C}`, 'must be true, false or an account UUID'],
    [[ACCOUNT_B, ACCOUNT_C], 'is given more than once'],
  ])('rejects %p', (raw, reason) => {
    expect(() => parseForeignFilter(raw)).toThrow(reason);
  });
});

/** One personal identity of each kind: valid/expired × public/private. */
const validPublic = makeRow({ name: 'A#valid_public', visibility: TRUE_RULE });
const validPrivate = makeRow({ name: 'A#valid_private' });
const expiredPublic = makeRow({ name: 'A#expired_public', visibility: TRUE_RULE, validityTs: NOW });
const expiredPrivate = makeRow({ name: 'A#expired_private', validityTs: NOW - 10 });
const personalRows = [validPublic, validPrivate, expiredPublic, expiredPrivate];

/** Every combination of the five personal booleans, with the rows docs/visibility.md says are listed. */
const matrix: [IdentityListFilters, IdentityRow[]][] = [];
for (let bits = 0; bits < 32; bits++) {
  const f: IdentityListFilters = {
    showPersonal: (bits & 1) !== 0,
    showValid: (bits & 2) !== 0,
    showExpired: (bits & 4) !== 0,
    showPublic: (bits & 8) !== 0,
    showPrivate: (bits & 16) !== 0,
    showForeign: { kind: 'none' },
  };
  const expected = !f.showPersonal
    ? []
    : [
        ...(f.showValid && f.showPublic ? [validPublic] : []),
        ...(f.showValid && f.showPrivate ? [validPrivate] : []),
        ...(f.showExpired && f.showPublic ? [expiredPublic] : []),
        ...(f.showExpired && f.showPrivate ? [expiredPrivate] : []),
      ];
  matrix.push([f, expected]);
}

describe('listIdentities: the personal filter matrix', () => {
  it.each(matrix)('%j', (filters, expected) => {
    const listed = listIdentities(personalRows, filters, makeCaller(), makeTwin(), NOW);
    expect(new Set(listed.map((l) => l.row))).toEqual(new Set(expected));
    for (const entry of listed) {
      expect(entry.personal).toBe(true);
      expect(entry.includeVisibility).toBe(true);
    }
    for (const row of personalRows)
      expect(passesPersonalFilters(row, filters, NOW)).toBe(expected.includes(row));
  });
});

describe('listIdentities: foreign identities', () => {
  const fromB = makeRow({ name: 'B#public', owner: ACCOUNT_B, visibility: TRUE_RULE });
  const fromBPrivate = makeRow({ name: 'B#private', owner: ACCOUNT_B });
  const fromBHidden = makeRow({ name: 'B#hidden', owner: ACCOUNT_B, visibility: FALSE_RULE });
  const fromBExpired = makeRow({
    name: 'B#expired',
    owner: ACCOUNT_B,
    visibility: TRUE_RULE,
    validityTs: NOW,
  });
  const fromC = makeRow({ name: 'C#public', owner: ACCOUNT_C, visibility: TRUE_RULE });
  const rows = [validPublic, fromB, fromBPrivate, fromBHidden, fromBExpired, fromC];
  const everything = { ...DEFAULT_IDENTITY_LIST_FILTERS, showExpired: true };

  it.each<[string, IdentityListFilters['showForeign'], IdentityRow[]]>([
    ['none by default', { kind: 'none' }, [validPublic]],
    [
      'all visible foreign ones, never private, hidden or expired',
      { kind: 'all' },
      [validPublic, fromB, fromC],
    ],
    ['one account only', { kind: 'account', account: ACCOUNT_C }, [validPublic, fromC]],
    ['the own account adds nothing', { kind: 'account', account: ACCOUNT_A }, [validPublic]],
  ])('%s', (_label, showForeign, expected) => {
    const listed = listIdentities(rows, { ...everything, showForeign }, makeCaller(), makeTwin(), NOW);
    expect(listed.map((l) => l.row)).toEqual(expected);
  });

  it('foreign entries never include visibility; order is own account first, then owner, then name', () => {
    const listed = listIdentities(
      [fromC, fromB, validPrivate, validPublic],
      { ...everything, showForeign: { kind: 'all' } },
      makeCaller(),
      makeTwin(),
      NOW,
    );
    expect(listed.map((l) => [l.row.name, l.personal, l.includeVisibility])).toEqual([
      ['A#valid_private', true, true],
      ['A#valid_public', true, true],
      ['B#public', false, false],
      ['C#public', false, false],
    ]);
  });

  it('show_personal=false with show_foreign lists only foreign identities', () => {
    const listed = listIdentities(
      rows,
      { ...everything, showPersonal: false, showForeign: { kind: 'all' } },
      makeCaller(),
      makeTwin(),
      NOW,
    );
    expect(listed.map((l) => l.row)).toEqual([fromB, fromC]);
  });

  it('the role identity_rule applies to personal and foreign entries alike', () => {
    const onlyScheme = fakeRule('identity =~ "B#.*"', (v) => v.identity?.startsWith('B#') === true, [
      'identity',
    ]);
    const listed = listIdentities(
      rows,
      { ...everything, showForeign: { kind: 'all' } },
      makeCaller({ identityRule: onlyScheme }),
      makeTwin(),
      NOW,
    );
    expect(listed.map((l) => l.row)).toEqual([fromB]);
  });

  it('visibility rules see the listed twin', () => {
    const kindPallet = fakeRule('TWIN.kind == "pallet"', (v) => v.TWIN?.kind === 'pallet', ['TWIN']);
    const row = makeRow({ name: 'B#kind', owner: ACCOUNT_B, visibility: kindPallet });
    const filters = { ...everything, showForeign: { kind: 'all' as const } };
    expect(listIdentities([row], filters, makeCaller(), makeTwin(), NOW)).toHaveLength(1);
    expect(
      listIdentities([row], filters, makeCaller(), makeTwin({ description: { kind: 'box' } }), NOW),
    ).toHaveLength(0);
  });
});
