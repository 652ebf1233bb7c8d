/**
 * Property tests: the real visibility, resolution and listing against the plain reference model
 * (visibility.reference.ts) over generated worlds, plus the leak property.
 * Rules are fakes — predicates built from a small generated rule language — so these run without the compiler.
 */
import fc from 'fast-check';
import type { Caller, IdentityRow, ResolveContext, TwinFacts } from '../model.js';
import type { CompiledRule, RuleVariableName, RuleVariables } from '../rules/rule-types.js';
import { type IdentityListFilters, listIdentities } from './identity-filters.js';
import { keepRowWithoutRules, resolvedTwinIds, resolveRows, visibleTwins } from './resolution.js';
import { twinRuleUnderSharing } from './twin-sharing.js';
import { canSeeTwin, isValid } from './visibility.js';
import { isPersonal, ResolutionExplainer } from './resolution-explanation.js';
import { mayRewriteTwin, mirrorRefusal, ownerToCheck } from '../sync/mirror-ownership.js';
import { referenceListIdentities, referenceMirrorAllowed, referenceResolve } from './visibility.reference.js';

// ---- the generated world -------------------------------------------------------------------------------------

const ACCOUNTS = [
  '9c0e1a2b-0000-4000-8000-00000000000a',
  '1f3d5e7a-0000-4000-8000-00000000000b',
  '5b6a7c8d-0000-4000-8000-00000000000c',
];
const UNKNOWN_ACCOUNT = 'ffffffff-0000-4000-8000-0000000000ff';
/** Not in index order, so (created, uuid) ordering is really exercised. */
const TWINS = [
  'd4000000-0000-4000-8000-000000000001',
  '0a000000-0000-4000-8000-000000000002',
  'b7000000-0000-4000-8000-000000000003',
  '3e000000-0000-4000-8000-000000000004',
  'f1000000-0000-4000-8000-000000000005',
  '62000000-0000-4000-8000-000000000006',
];
const USERS = ['a1000000-0000-4000-8000-0000000000a1', 'a2000000-0000-4000-8000-0000000000a2'];
const ROLES = ['e1000000-0000-4000-8000-0000000000e1', 'e2000000-0000-4000-8000-0000000000e2'];
const NAMES = ['RFID#1', 'GTIN#2', 'X#3'];
const UNKNOWN_NAME = 'Z#unknown';
const SITES = ['WAW', 'KRK'];
const KINDS = ['pallet', 'box'];
const NOW = 100;

type EqVariable = 'account' | 'user' | 'role' | 'twin' | 'identity' | 'twin_owner' | 'twin_status';
type RuleSpec =
  | { k: 'const'; value: boolean }
  | { k: 'throws' }
  | { k: 'eq'; variable: EqVariable; value: string }
  | { k: 'attr'; object: 'TWIN' | 'USER' | 'DICT'; key: 'kind' | 'site'; value: string }
  | { k: 'nowBefore'; t: number }
  | { k: 'not'; a: RuleSpec }
  | { k: 'and' | 'or'; a: RuleSpec; b: RuleSpec };

const eqPools: Record<EqVariable, string[]> = {
  account: ACCOUNTS,
  user: USERS,
  role: ROLES,
  twin: TWINS,
  identity: NAMES,
  twin_owner: ACCOUNTS,
  twin_status: ['alive', 'terminated'],
};

const leafRule: fc.Arbitrary<RuleSpec> = fc.oneof(
  fc.record({ k: fc.constant('const' as const), value: fc.boolean() }),
  fc.constant({ k: 'throws' as const }),
  fc.constantFrom(...(Object.keys(eqPools) as EqVariable[])).chain((variable) =>
    fc.record({
      k: fc.constant('eq' as const),
      variable: fc.constant(variable),
      value: fc.constantFrom(...eqPools[variable]),
    }),
  ),
  fc.record({
    k: fc.constant('attr' as const),
    object: fc.constantFrom('TWIN' as const, 'USER' as const, 'DICT' as const),
    key: fc.constantFrom('kind' as const, 'site' as const),
    value: fc.constantFrom(...KINDS, ...SITES),
  }),
  fc.record({ k: fc.constant('nowBefore' as const), t: fc.integer({ min: NOW - 1, max: NOW + 2 }) }),
);

const ruleSpec: fc.Arbitrary<RuleSpec> = fc.letrec<{ rule: RuleSpec }>((tie) => ({
  rule: fc.oneof(
    { maxDepth: 2, depthIdentifier: 'rule' },
    leafRule,
    fc.record({ k: fc.constant('not' as const), a: tie('rule') }),
    fc.record({ k: fc.constantFrom('and' as const, 'or' as const), a: tie('rule'), b: tie('rule') }),
  ),
})).rule;

function evalSpec(spec: RuleSpec, v: RuleVariables): boolean {
  switch (spec.k) {
    case 'const':
      return spec.value;
    case 'throws':
      throw new Error('evaluation error');
    case 'eq':
      return v[spec.variable] === spec.value;
    case 'attr': {
      const object = v[spec.object];
      return object !== null && object !== undefined && object[spec.key] === spec.value;
    }
    case 'nowBefore':
      return typeof v.now === 'number' && v.now < spec.t;
    case 'not':
      return !evalSpec(spec.a, v);
    case 'and':
      return evalSpec(spec.a, v) && evalSpec(spec.b, v);
    case 'or':
      return evalSpec(spec.a, v) || evalSpec(spec.b, v);
  }
}

function variablesOf(spec: RuleSpec, into = new Set<RuleVariableName>()): Set<RuleVariableName> {
  if (spec.k === 'eq') into.add(spec.variable);
  if (spec.k === 'attr') into.add(spec.object);
  if (spec.k === 'nowBefore') into.add('now');
  if (spec.k === 'not' || spec.k === 'and' || spec.k === 'or') variablesOf(spec.a, into);
  if (spec.k === 'and' || spec.k === 'or') variablesOf(spec.b, into);
  return into;
}

/** The test-only CompiledRule: evaluate is the spec's predicate (and may throw, to prove fail-closed handling). */
function fakeRule(spec: RuleSpec): CompiledRule {
  return { source: JSON.stringify(spec), variables: variablesOf(spec), evaluate: (v) => evalSpec(spec, v) };
}

interface World {
  now: number;
  twins: Map<string, TwinFacts>;
  rows: IdentityRow[];
  callers: Caller[];
  /** Random account lists to use as contexts, besides personal, system and each single account. */
  lists: string[][];
}

/** A rule, or null with probability 1 / `oneInNull` (fast-check's `freq`). */
const optionalRule = (oneInNull: number) => fc.option(ruleSpec.map(fakeRule), { nil: null, freq: oneInNull });

const worldArb: fc.Arbitrary<World> = fc
  .record({
    now: fc.constantFrom(NOW, NOW + 0.5),
    twins: fc.uniqueArray(
      fc.record({
        idx: fc.nat(TWINS.length - 1),
        owner: fc.nat(ACCOUNTS.length - 1),
        status: fc.constantFrom('alive' as const, 'terminated' as const),
        kind: fc.constantFrom(...KINDS),
        // Two values only, so equal creation times (ordered by UUID) are common.
        createdTs: fc.integer({ min: 0, max: 1 }),
      }),
      { selector: (t) => t.idx, maxLength: TWINS.length },
    ),
    rows: fc.uniqueArray(
      fc.record({
        twin: fc.nat(TWINS.length - 1),
        owner: fc.nat(ACCOUNTS.length - 1),
        name: fc.nat(NAMES.length - 1),
        visibility: optionalRule(3),
        validityOffset: fc.option(fc.integer({ min: -2, max: 2 }), { nil: null }),
        // Mostly ordinary identities; some synced grants (docs/sync.md include_foreign) to one account.
        grantee: fc.oneof(
          { weight: 4, arbitrary: fc.constant(null) },
          { weight: 1, arbitrary: fc.nat(ACCOUNTS.length - 1) },
        ),
      }),
      { selector: (r) => `${r.twin}/${r.owner}/${r.name}`, maxLength: 16 },
    ),
    callers: fc.array(
      fc.record({
        account: fc.nat(ACCOUNTS.length - 1),
        user: fc.nat(USERS.length - 1),
        role: fc.nat(ROLES.length - 1),
        twinRule: optionalRule(2),
        identityRule: optionalRule(2),
        site: fc.constantFrom(...SITES),
        dictSite: fc.option(fc.constantFrom(...SITES), { nil: null }),
      }),
      { minLength: 1, maxLength: 3 },
    ),
    lists: fc.array(fc.subarray([...ACCOUNTS, UNKNOWN_ACCOUNT], { minLength: 1 }), { maxLength: 2 }),
  })
  .map(({ now, twins, rows, callers, lists }) => {
    const twinMap = new Map<string, TwinFacts>();
    for (const t of twins) {
      twinMap.set(TWINS[t.idx], {
        uuid: TWINS[t.idx],
        owner: ACCOUNTS[t.owner],
        status: t.status,
        description: { kind: t.kind },
        createdTs: t.createdTs,
      });
    }
    return {
      now,
      twins: twinMap,
      // A row whose twin is not in the map models facts that could not be supplied (twinOf → undefined).
      rows: rows.map((r) => ({
        name: NAMES[r.name],
        twin: TWINS[r.twin],
        owner: ACCOUNTS[r.owner],
        visibility: r.visibility,
        validityTs: r.validityOffset === null ? null : NOW + r.validityOffset,
        twinCreatedTs: twinMap.get(TWINS[r.twin])?.createdTs ?? r.twin % 2,
        grantee: r.grantee === null ? null : ACCOUNTS[r.grantee],
      })),
      callers: callers.map((c) => ({
        account: ACCOUNTS[c.account],
        user: USERS[c.user],
        role: ROLES[c.role],
        userDescription: { site: c.site },
        dict: c.dictSite === null ? {} : { site: c.dictSite },
        twinRule: c.twinRule,
        identityRule: c.identityRule,
      })),
      lists,
    };
  });

// ---- helpers ---------------------------------------------------------------------------------------------------

function contextsOf(world: World): ResolveContext[] {
  const accounts = (list: string[]): ResolveContext => ({ kind: 'accounts', accounts: new Set(list) });
  return [
    { kind: 'personal' },
    { kind: 'system' },
    ...ACCOUNTS.map((a) => accounts([a])),
    accounts([UNKNOWN_ACCOUNT]),
    ...world.lists.map(accounts),
  ];
}

/** The real pipeline as the endpoint will run it: step 1 (rows of the name) is the index's job. */
function realResolve(
  world: World,
  rows: readonly IdentityRow[],
  name: string,
  context: ResolveContext,
  details: boolean,
  caller: Caller,
): string[] {
  const twinOf = (uuid: string) => world.twins.get(uuid);
  const kept = resolveRows(
    rows.filter((r) => r.name === name),
    context,
    caller,
    world.now,
    twinOf,
  );
  return details ? visibleTwins(kept, caller, world.now, twinOf).map((t) => t.uuid) : resolvedTwinIds(kept);
}

function forEveryQuestion(
  world: World,
  check: (caller: Caller, name: string, context: ResolveContext, details: boolean) => void,
) {
  for (const caller of world.callers) {
    for (const name of [...NAMES, UNKNOWN_NAME]) {
      for (const context of contextsOf(world)) {
        for (const details of [false, true]) check(caller, name, context, details);
      }
    }
  }
}

/**
 * Identities that must never matter to `caller`: foreign private ones, foreign expired ones, and grants to another
 * account or expired — including grants naming the caller's own account as owner.
 */
const mustNotLeak = (row: IdentityRow, caller: Caller, now: number) =>
  row.grantee != null
    ? row.grantee !== caller.account || !isValid(row, now)
    : row.owner !== caller.account && (row.visibility === null || !isValid(row, now));

const filtersArb: fc.Arbitrary<IdentityListFilters> = fc.record({
  showPersonal: fc.boolean(),
  showValid: fc.boolean(),
  showExpired: fc.boolean(),
  showPublic: fc.boolean(),
  showPrivate: fc.boolean(),
  showForeign: fc.oneof(
    fc.constant({ kind: 'none' as const }),
    fc.constant({ kind: 'all' as const }),
    fc.constantFrom(...ACCOUNTS, UNKNOWN_ACCOUNT).map((account) => ({ kind: 'account' as const, account })),
  ),
});

const referenceForeign = (f: IdentityListFilters['showForeign']) =>
  f.kind === 'none' ? false : f.kind === 'all' ? true : f.account;

const RUNS = { numRuns: 200 };

// ---- properties ------------------------------------------------------------------------------------------------

describe('resolution against the reference model', () => {
  it('real == reference for every caller, name, context and details mode', () => {
    fc.assert(
      fc.property(worldArb, (world) => {
        forEveryQuestion(world, (caller, name, context, details) => {
          const expected = referenceResolve(
            world.rows,
            world.twins,
            name,
            context,
            details,
            caller,
            world.now,
          );
          expect(realResolve(world, world.rows, name, context, details, caller)).toEqual(expected);
        });
      }),
      RUNS,
    );
  });

  it('does not depend on the order of the index rows', () => {
    fc.assert(
      fc.property(worldArb, (world) => {
        const reversed = [...world.rows].reverse();
        forEveryQuestion(world, (caller, name, context, details) => {
          expect(realResolve(world, reversed, name, context, details, caller)).toEqual(
            realResolve(world, world.rows, name, context, details, caller),
          );
        });
      }),
    );
  });

  it('details=true answers a sub-list of details=false; personal = own account; system covers every context', () => {
    fc.assert(
      fc.property(worldArb, (world) => {
        for (const caller of world.callers) {
          for (const name of NAMES) {
            const ask = (context: ResolveContext, details: boolean) =>
              realResolve(world, world.rows, name, context, details, caller);
            const system = ask({ kind: 'system' }, false);
            for (const context of contextsOf(world)) {
              const ids = ask(context, false);
              const detailed = ask(context, true);
              expect(ids.filter((id) => detailed.includes(id))).toEqual(detailed);
              for (const id of ids) expect(system).toContain(id);
            }
            expect(ask({ kind: 'personal' }, false)).toEqual(
              ask({ kind: 'accounts', accounts: new Set([caller.account]) }, false),
            );
          }
        }
      }),
    );
  });
});

describe('the cached hot path (one row, no rule evaluated)', () => {
  it('keeps a row exactly when the full decision does, whenever it answers without a rule', () => {
    let answered = 0;
    fc.assert(
      fc.property(worldArb, (world) => {
        const twinOf = (uuid: string) => world.twins.get(uuid);
        for (const caller of world.callers) {
          for (const context of contextsOf(world)) {
            for (const row of world.rows) {
              const kept = keepRowWithoutRules(row, context, caller, world.now);
              if (kept === undefined) continue;
              answered++;
              const full = resolveRows([row], context, caller, world.now, twinOf).length === 1;
              expect({ row, caller, context, kept }).toEqual({ row, caller, context, kept: full });
            }
          }
        }
      }),
      RUNS,
    );
    expect(answered).toBeGreaterThan(1000);
  });
});

describe('the leak property', () => {
  it('a private or expired identity of account X never contributes to an answer for a caller of account Y ≠ X', () => {
    fc.assert(
      fc.property(worldArb, fc.nat(TWINS.length - 1), (world, otherTwin) => {
        forEveryQuestion(world, (caller, name, context, details) => {
          const answer = realResolve(world, world.rows, name, context, details, caller);
          // Removing those rows changes nothing…
          const without = world.rows.filter((r) => !mustNotLeak(r, caller, world.now));
          expect(realResolve(world, without, name, context, details, caller)).toEqual(answer);
          // …and neither does making them as tempting as possible without changing what they are: expired ones
          // get an always-true rule, private ones never expire, and all point at another twin (unless that would
          // collide with a legitimate row: (twin, owner, name) is unique).
          const keyOf = (r: IdentityRow) => `${r.twin}/${r.owner}/${r.name}`;
          const tempting = [...without];
          const taken = new Set(without.map(keyOf));
          for (const r of world.rows) {
            if (!mustNotLeak(r, caller, world.now)) continue;
            const moved: IdentityRow = {
              ...r,
              twin: TWINS[otherTwin],
              visibility: r.visibility === null ? null : fakeRule({ k: 'const', value: true }),
              // Grants keep their validity: an expired grant made valid would legitimately show to its grantee.
              validityTs: r.visibility === null && r.grantee == null ? null : r.validityTs,
            };
            const chosen = taken.has(keyOf(moved)) ? r : moved;
            if (!taken.has(keyOf(chosen))) tempting.push(chosen);
            taken.add(keyOf(chosen));
          }
          expect(tempting.length).toBeGreaterThanOrEqual(without.length);
          expect(realResolve(world, tempting, name, context, details, caller)).toEqual(answer);
        });
      }),
      RUNS,
    );
  });

  it('listing never shows another account a private or expired identity, nor any foreign rule text', () => {
    fc.assert(
      fc.property(worldArb, filtersArb, (world, filters) => {
        for (const caller of world.callers) {
          for (const twin of world.twins.values()) {
            const rows = world.rows.filter((r) => r.twin === twin.uuid);
            for (const entry of listIdentities(rows, filters, caller, twin, world.now)) {
              expect(entry.personal).toBe(entry.row.owner === caller.account && entry.row.grantee == null);
              if (!entry.personal) {
                expect(mustNotLeak(entry.row, caller, world.now)).toBe(false);
                expect(entry.includeVisibility).toBe(false);
              }
            }
          }
        }
      }),
      RUNS,
    );
  });
});

describe('listing against the reference model', () => {
  it('real == reference for every caller, twin and filter combination', () => {
    fc.assert(
      fc.property(worldArb, filtersArb, (world, filters) => {
        const referenceFilters = { ...filters, showForeign: referenceForeign(filters.showForeign) };
        for (const caller of world.callers) {
          for (const twin of world.twins.values()) {
            const rows = world.rows.filter((r) => r.twin === twin.uuid);
            const real = listIdentities(rows, filters, caller, twin, world.now).map((l) => l.row);
            const expected = referenceListIdentities(
              world.rows,
              world.twins,
              twin.uuid,
              referenceFilters,
              caller,
              world.now,
            );
            expect(new Set(real)).toEqual(new Set(expected));
            expect(real).toHaveLength(expected.length);
          }
        }
      }),
      RUNS,
    );
  });
});

describe('the generated worlds are not vacuous', () => {
  it('often contain the interesting cases the properties are about', () => {
    const seen = {
      foreignVisible: 0,
      leakCandidates: 0,
      detailsNarrower: 0,
      ties: 0,
      personalExpiredListed: 0,
    };
    for (const world of fc.sample(worldArb, { numRuns: 300, seed: 42 })) {
      const system: ResolveContext = { kind: 'system' };
      for (const caller of world.callers) {
        if (world.rows.some((r) => mustNotLeak(r, caller, world.now))) seen.leakCandidates++;
        for (const name of NAMES) {
          const rows = world.rows.filter((r) => r.name === name);
          const kept = resolveRows(rows, system, caller, world.now, (u) => world.twins.get(u));
          if (kept.some((r) => r.owner !== caller.account)) seen.foreignVisible++;
          const ids = resolvedTwinIds(kept);
          if (visibleTwins(kept, caller, world.now, (u) => world.twins.get(u)).length < ids.length)
            seen.detailsNarrower++;
          if (new Set(kept.map((r) => r.twinCreatedTs)).size < ids.length) seen.ties++;
        }
        for (const twin of world.twins.values()) {
          const listed = listIdentities(
            world.rows.filter((r) => r.twin === twin.uuid),
            {
              showPersonal: true,
              showValid: true,
              showExpired: true,
              showPublic: true,
              showPrivate: true,
              showForeign: { kind: 'all' },
            },
            caller,
            twin,
            world.now,
          );
          if (listed.some((l) => l.personal && !isValid(l.row, world.now))) seen.personalExpiredListed++;
        }
      }
    }
    for (const count of Object.values(seen)) expect(count).toBeGreaterThan(20);
  });
});

describe('TWIN_SHARING', () => {
  it('closed: details never show a foreign twin; the identity answer (details=false) is that of open', () => {
    fc.assert(
      fc.property(worldArb, (world) => {
        forEveryQuestion(world, (caller, name, context, details) => {
          const open = { ...caller, twinRule: twinRuleUnderSharing(caller.twinRule, 'open') };
          const closed = { ...caller, twinRule: twinRuleUnderSharing(caller.twinRule, 'closed') };
          expect(realResolve(world, world.rows, name, context, details, open)).toEqual(
            realResolve(world, world.rows, name, context, details, caller),
          );
          const answer = realResolve(world, world.rows, name, context, details, closed);
          if (!details) {
            expect(answer).toEqual(realResolve(world, world.rows, name, context, false, open));
            return;
          }
          for (const uuid of answer) expect(world.twins.get(uuid)?.owner).toBe(caller.account);
          // Closed shows exactly the caller's own twins among those open would show.
          const openTwins = realResolve(world, world.rows, name, context, true, open);
          expect(answer).toEqual(openTwins.filter((uuid) => world.twins.get(uuid)?.owner === caller.account));
        });
      }),
      RUNS,
    );
  });
});

// ---- a hostile upstream (issue #10) ----------------------------------------------------------------------------

const HOSTILE_SOURCE = 'source-hostile';
const OTHER_SOURCE = 'source-other';
const HOSTILE_NAMES = ['EVIL#1', 'EVIL#2'];

const hostileArb = fc.record({
  attacker: fc.nat(ACCOUNTS.length - 1),
  /** Per twin index: how the twin got here, if it is here (null: API, else a source). */
  sources: fc.array(fc.constantFrom(null, OTHER_SOURCE, HOSTILE_SOURCE), {
    minLength: TWINS.length,
    maxLength: TWINS.length,
  }),
  claims: fc.array(
    fc.record({
      twin: fc.nat(TWINS.length - 1),
      owner: fc.constantFrom(...ACCOUNTS, UNKNOWN_ACCOUNT),
      name: fc.constantFrom(...HOSTILE_NAMES),
    }),
    { maxLength: 8 },
  ),
});

describe('the leak property with a hostile upstream', () => {
  it("a tenant's upstream never takes over, plants on or decorates another account's twin, for any caller", () => {
    fc.assert(
      fc.property(worldArb, hostileArb, (world, hostile) => {
        const attacker = ACCOUNTS[hostile.attacker];
        const accountsHere = new Set(ACCOUNTS);
        const local = new Map<string, { owner: string; source: string | null }>();
        for (const t of world.twins.values()) {
          local.set(t.uuid, { owner: t.owner, source: hostile.sources[TWINS.indexOf(t.uuid)] });
        }
        const before = new Map(local);
        const twins = new Map(world.twins);
        const hostileRows: IdentityRow[] = [];
        for (const c of hostile.claims) {
          const uuid = TWINS[c.twin];
          const stored = local.get(uuid) ?? null;
          const claim = { source: HOSTILE_SOURCE, account: attacker, claimedOwner: c.owner };
          const checked = ownerToCheck(stored, claim);
          const refused = mirrorRefusal(stored, claim, checked !== null && accountsHere.has(checked));
          expect(refused === null).toBe(
            referenceMirrorAllowed(stored, HOSTILE_SOURCE, attacker, c.owner, accountsHere),
          );
          if (refused !== null) continue;
          if (mayRewriteTwin(stored, HOSTILE_SOURCE)) {
            local.set(uuid, { owner: c.owner, source: stored?.source ?? HOSTILE_SOURCE });
            const old = twins.get(uuid);
            twins.set(uuid, {
              uuid,
              owner: c.owner,
              status: 'alive',
              description: {},
              createdTs: old?.createdTs ?? 0,
            });
          }
          if (!hostileRows.some((r) => r.twin === uuid && r.name === c.name)) {
            hostileRows.push({
              name: c.name,
              twin: uuid,
              owner: attacker,
              visibility: fakeRule({ k: 'const', value: true }),
              validityTs: null,
              twinCreatedTs: twins.get(uuid)?.createdTs ?? 0,
            });
          }
        }
        // Another account's twin that the hostile source did not bring keeps its owner and carries none of B's rows.
        const protectedTwins = [...before].filter(
          ([, t]) => t.owner !== attacker && t.source !== HOSTILE_SOURCE,
        );
        for (const [uuid, t] of protectedTwins) {
          expect(local.get(uuid)?.owner).toBe(t.owner);
          expect(hostileRows.some((r) => r.twin === uuid)).toBe(false);
        }
        // No twin became the own twin of an account here that did not own it before.
        for (const [uuid, t] of local) {
          if (t.owner !== attacker && accountsHere.has(t.owner))
            expect(before.get(uuid)?.owner).toBe(t.owner);
        }
        // And no caller, whatever its account, context or rules, resolves B's names to a protected twin.
        const hostileWorld = { ...world, twins };
        const protectedIds = new Set(protectedTwins.map(([uuid]) => uuid));
        for (const caller of world.callers) {
          for (const name of HOSTILE_NAMES) {
            for (const context of contextsOf(world)) {
              for (const details of [false, true]) {
                const answer = realResolve(
                  hostileWorld,
                  [...world.rows, ...hostileRows],
                  name,
                  context,
                  details,
                  caller,
                );
                for (const twin of answer) expect(protectedIds.has(twin)).toBe(false);
              }
            }
          }
        }
      }),
      RUNS,
    );
  });
});

// ---- explaining (POST /resolve/explain) --------------------------------------------------------------------------

describe('explaining a resolution', () => {
  /** resolveRows and visibleTwins with an explainer listening, as ResolveService.explain runs them. */
  function explainedResolve(
    world: World,
    rows: readonly IdentityRow[],
    name: string,
    context: ResolveContext,
    details: boolean,
    caller: Caller,
  ) {
    const twinOf = (uuid: string) => world.twins.get(uuid);
    const explainer = new ResolutionExplainer(caller);
    const ofName = rows.filter((r) => r.name === name);
    const kept = resolveRows(ofName, context, caller, world.now, twinOf, explainer);
    const answer = details
      ? visibleTwins(kept, caller, world.now, twinOf, explainer.twinTrace).map((t) => t.uuid)
      : resolvedTwinIds(kept);
    const shown = (uuid: string) => {
      const twin = world.twins.get(uuid);
      return twin !== undefined && canSeeTwin(caller, twin, world.now);
    };
    return { ofName, kept, answer, rows: explainer.rows(shown), twins: explainer.twins() };
  }

  it('answers what resolution answers (and the reference model) while it listens', () => {
    fc.assert(
      fc.property(worldArb, (world) => {
        forEveryQuestion(world, (caller, name, context, details) => {
          const explained = explainedResolve(world, world.rows, name, context, details, caller);
          expect(explained.answer).toEqual(realResolve(world, world.rows, name, context, details, caller));
          expect(explained.answer).toEqual(
            referenceResolve(world.rows, world.twins, name, context, details, caller, world.now),
          );
        });
      }),
      RUNS,
    );
  });

  it("lists the caller's own rows and kept rows only; each row's checks end where its decision did", () => {
    fc.assert(
      fc.property(worldArb, (world) => {
        forEveryQuestion(world, (caller, name, context, details) => {
          const explained = explainedResolve(world, world.rows, name, context, details, caller);
          const keptTwins = new Set(explained.kept.map((r) => `${r.twin}/${r.owner}`));
          const expectedListed = explained.ofName.filter(
            (r) => isPersonal(r, caller.account) || explained.kept.includes(r),
          );
          expect(explained.rows).toHaveLength(expectedListed.length);
          for (const row of explained.rows) {
            expect(row.kept).toBe(keptTwins.has(`${row.twin}/${row.owner}`));
            expect(row.checks[0].check).toBe('context');
            const passed = row.checks.map((c) => c.passed);
            // Kept: every check passed. Dropped: the decision stopped at its first failing check.
            if (row.kept) expect(passed.every(Boolean)).toBe(true);
            else expect(passed.indexOf(false)).toBe(passed.length - 1);
            if (!row.personal) {
              expect(row.kept).toBe(true);
              expect(row).not.toHaveProperty('visibility');
            }
          }
          if (details)
            expect(explained.twins.filter((t) => t.visible).map((t) => t.twin)).toEqual(explained.answer);
        });
      }),
      RUNS,
    );
  });

  it('is the same whether or not the index holds foreign rows the caller may not see (owner-safe)', () => {
    fc.assert(
      fc.property(worldArb, (world) => {
        forEveryQuestion(world, (caller, name, context, details) => {
          const all = explainedResolve(world, world.rows, name, context, details, caller);
          const unseen = all.ofName.filter((r) => !isPersonal(r, caller.account) && !all.kept.includes(r));
          const without = world.rows.filter((r) => !unseen.includes(r));
          const fewer = explainedResolve(world, without, name, context, details, caller);
          expect(JSON.stringify({ answer: fewer.answer, rows: fewer.rows, twins: fewer.twins })).toBe(
            JSON.stringify({ answer: all.answer, rows: all.rows, twins: all.twins }),
          );
        });
      }),
      RUNS,
    );
  });
});
