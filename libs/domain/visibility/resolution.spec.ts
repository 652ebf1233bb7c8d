import type { IdentityRow, ResolveContext, TwinFacts } from '../model.js';
import {
  compareAnswerOrder,
  narrowByContext,
  resolvedTwinIds,
  resolveRows,
  visibleTwins,
} from './resolution.js';
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
  TRUE_RULE,
  TWIN_1,
  TWIN_2,
  TWIN_3,
} from './test-fixtures.js';

const NOW = 1000;
const personal: ResolveContext = { kind: 'personal' };
const system: ResolveContext = { kind: 'system' };
const accounts = (...list: string[]): ResolveContext => ({ kind: 'accounts', accounts: new Set(list) });

const rowA = makeRow({ owner: ACCOUNT_A });
const rowB = makeRow({ owner: ACCOUNT_B, visibility: TRUE_RULE });
const rowC = makeRow({ owner: ACCOUNT_C, visibility: TRUE_RULE, twin: TWIN_2 });
const rows = [rowA, rowB, rowC];

describe('narrowByContext', () => {
  it.each<[string, ResolveContext, IdentityRow[]]>([
    ['personal: own account only', personal, [rowA]],
    ['system: every owner', system, rows],
    ['one account', accounts(ACCOUNT_B), [rowB]],
    ['a list', accounts(ACCOUNT_B, ACCOUNT_C), [rowB, rowC]],
    ['a list with an unknown account', accounts('ffffffff-0000-4000-8000-000000000000'), []],
    ['the own account by UUID equals personal', accounts(ACCOUNT_A), [rowA]],
  ])('%s', (_label, context, expected) => {
    expect(narrowByContext(rows, context, makeCaller())).toEqual(expected);
  });

  it('system hands back the same array (no copy on the hot path)', () => {
    expect(narrowByContext(rows, system, makeCaller())).toBe(rows);
  });
});

describe('resolveRows', () => {
  const twins = new Map<string, TwinFacts>([
    [TWIN_1, makeTwin()],
    [TWIN_2, makeTwin({ uuid: TWIN_2, owner: ACCOUNT_C })],
  ]);
  const twinOf = (uuid: string) => twins.get(uuid);

  it.each<[string, ResolveContext, IdentityRow[], IdentityRow[]]>([
    ['personal keeps own valid rows', personal, rows, [rowA]],
    ['system keeps own and visible foreign rows', system, rows, rows],
    ['system drops foreign private rows', system, [rowA, makeRow({ owner: ACCOUNT_B })], [rowA]],
    [
      'system drops foreign rows whose rule is false',
      system,
      [makeRow({ owner: ACCOUNT_B, visibility: FALSE_RULE })],
      [],
    ],
    ['drops expired own rows', personal, [makeRow({ validityTs: NOW })], []],
    [
      'drops expired foreign rows',
      system,
      [makeRow({ owner: ACCOUNT_B, visibility: TRUE_RULE, validityTs: 1 })],
      [],
    ],
    ['context narrows before visibility', accounts(ACCOUNT_C), rows, [rowC]],
    ['no rows: empty', system, [], []],
  ])('%s', (_label, context, input, expected) => {
    expect(resolveRows(input, context, makeCaller(), NOW, twinOf)).toEqual(expected);
  });

  it('applies the role identity_rule to every row', () => {
    const onlyTwin2 = fakeRule('twin == T2', (v) => v.twin === TWIN_2, ['twin']);
    expect(resolveRows(rows, system, makeCaller({ identityRule: onlyTwin2 }), NOW, twinOf)).toEqual([rowC]);
  });

  it('gives rules the twin facts', () => {
    const ownedByC = fakeRule('twin_owner == C', (v) => v.twin_owner === ACCOUNT_C, ['twin_owner']);
    const input = [
      makeRow({ owner: ACCOUNT_B, visibility: ownedByC }),
      makeRow({ owner: ACCOUNT_B, twin: TWIN_2, visibility: ownedByC }),
    ];
    expect(resolveRows(input, system, makeCaller(), NOW, twinOf)).toEqual([input[1]]);
  });

  it('does not look twins up when no rule is evaluated', () => {
    const spy = recording(twinOf);
    resolveRows(
      [rowA, makeRow({ owner: ACCOUNT_B }), makeRow({ validityTs: 0 })],
      system,
      makeCaller(),
      NOW,
      spy,
    );
    expect(spy.calls).toEqual([]);
  });

  it('looks each twin up at most once', () => {
    const spy = recording(twinOf);
    const caller = makeCaller({ identityRule: TRUE_RULE });
    resolveRows(
      [rowA, rowB, rowC, makeRow({ owner: ACCOUNT_C, visibility: TRUE_RULE })],
      system,
      caller,
      NOW,
      spy,
    );
    expect(spy.calls).toEqual([[TWIN_1], [TWIN_2]]);
  });

  it('an identity expiring at `now` stops resolving at that instant', () => {
    const row = makeRow({ validityTs: 2000 });
    expect(resolveRows([row], personal, makeCaller(), 1999.999, twinOf)).toEqual([row]);
    expect(resolveRows([row], personal, makeCaller(), 2000, twinOf)).toEqual([]);
  });
});

describe('resolvedTwinIds', () => {
  it.each<[string, IdentityRow[], string[]]>([
    ['none', [], []],
    ['one', [makeRow({ twin: TWIN_2 })], [TWIN_2]],
    [
      'by creation time first',
      [
        makeRow({ twin: TWIN_1, twinCreatedTs: 30 }),
        makeRow({ twin: TWIN_2, twinCreatedTs: 10 }),
        makeRow({ twin: TWIN_3, twinCreatedTs: 20 }),
      ],
      [TWIN_2, TWIN_3, TWIN_1],
    ],
    [
      'then by UUID',
      [
        makeRow({ twin: TWIN_3, twinCreatedTs: 5 }),
        makeRow({ twin: TWIN_1, twinCreatedTs: 5 }),
        makeRow({ twin: TWIN_2, twinCreatedTs: 5 }),
      ],
      [TWIN_1, TWIN_2, TWIN_3],
    ],
    [
      'distinct twins (several owners attach the name to one twin)',
      [
        makeRow({ twin: TWIN_2, owner: ACCOUNT_A }),
        makeRow({ twin: TWIN_1, owner: ACCOUNT_B }),
        makeRow({ twin: TWIN_2, owner: ACCOUNT_C }),
      ],
      [TWIN_1, TWIN_2],
    ],
    [
      'fractional timestamps',
      [
        makeRow({ twin: TWIN_1, twinCreatedTs: 1678270994.124 }),
        makeRow({ twin: TWIN_2, twinCreatedTs: 1678270994.123 }),
      ],
      [TWIN_2, TWIN_1],
    ],
  ])('%s', (_label, kept, expected) => {
    expect(resolvedTwinIds(kept)).toEqual(expected);
  });

  it('takes the earliest creation time when rows of one twin disagree, whatever the row order', () => {
    const kept = [
      makeRow({ twin: TWIN_1, owner: ACCOUNT_A, twinCreatedTs: 9 }),
      makeRow({ twin: TWIN_2, twinCreatedTs: 5 }),
      makeRow({ twin: TWIN_1, owner: ACCOUNT_B, twinCreatedTs: 1 }),
    ];
    expect(resolvedTwinIds(kept)).toEqual([TWIN_1, TWIN_2]);
    expect(resolvedTwinIds([...kept].reverse())).toEqual([TWIN_1, TWIN_2]);
  });

  it('does not depend on the input order', () => {
    const kept = [
      makeRow({ twin: TWIN_3, twinCreatedTs: 1 }),
      makeRow({ twin: TWIN_1, twinCreatedTs: 2 }),
      makeRow({ twin: TWIN_2, twinCreatedTs: 1 }),
    ];
    expect(resolvedTwinIds([...kept].reverse())).toEqual(resolvedTwinIds(kept));
  });

  it('compareAnswerOrder is a total order on (created, uuid)', () => {
    const a = makeRow({ twin: TWIN_1, twinCreatedTs: 1 });
    const b = makeRow({ twin: TWIN_2, twinCreatedTs: 1 });
    expect(compareAnswerOrder(a, b)).toBeLessThan(0);
    expect(compareAnswerOrder(b, a)).toBeGreaterThan(0);
    expect(compareAnswerOrder(a, a)).toBe(0);
  });
});

describe('visibleTwins', () => {
  const own = makeTwin({ uuid: TWIN_1, createdTs: 2 });
  const foreignAlive = makeTwin({ uuid: TWIN_2, owner: ACCOUNT_B, createdTs: 1 });
  const foreignTerminated = makeTwin({ uuid: TWIN_3, owner: ACCOUNT_B, status: 'terminated', createdTs: 3 });
  const twins = new Map([own, foreignAlive, foreignTerminated].map((t) => [t.uuid, t]));
  const twinOf = (uuid: string) => twins.get(uuid);
  const kept = [own, foreignAlive, foreignTerminated].map((t) =>
    makeRow({ twin: t.uuid, twinCreatedTs: t.createdTs, owner: ACCOUNT_B, visibility: TRUE_RULE }),
  );

  it('returns own twins only when the role has no twin rule', () => {
    expect(visibleTwins(kept, makeCaller(), NOW, twinOf)).toEqual([own]);
  });

  it('returns twins the twin rule admits, in answer order, terminated ones included', () => {
    expect(visibleTwins(kept, makeCaller({ twinRule: TRUE_RULE }), NOW, twinOf)).toEqual([
      foreignAlive,
      own,
      foreignTerminated,
    ]);
    const aliveOnly = fakeRule('twin_status == "alive"', (v) => v.twin_status === 'alive');
    expect(visibleTwins(kept, makeCaller({ twinRule: aliveOnly }), NOW, twinOf)).toEqual([foreignAlive, own]);
  });

  it('leaves out twins without facts, and is a sub-list of the details=false answer', () => {
    const missing = makeRow({ twin: 'ffffffff-0000-4000-8000-000000000000', twinCreatedTs: 0 });
    const all = [...kept, missing];
    const caller = makeCaller({ twinRule: TRUE_RULE });
    const twinsOut = visibleTwins(all, caller, NOW, twinOf).map((t) => t.uuid);
    expect(twinsOut).toEqual([TWIN_2, TWIN_1, TWIN_3]);
    expect(resolvedTwinIds(all)).toEqual([missing.twin, TWIN_2, TWIN_1, TWIN_3]);
  });
});
