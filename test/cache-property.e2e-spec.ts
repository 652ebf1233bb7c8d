/**
 * The resolution property test with the cache on (issue #4): two API instances on one database, random
 * interleavings of identity writes (create, patch, delete — on A or on B) and resolves (GET and POST, random caller,
 * context and details — on A or on B), some of them racing each other. Every answer is compared with a plain
 * reference model of docs/resolution.md:
 * - the writing instance answers with a write as soon as it acknowledged it;
 * - the other instance within the coherence bound (polled), and from then on at once;
 * - a resolve racing a write answers as before or as after the write, nothing else;
 * - no answer ever shows a private or invisible identity of one account to another account.
 */
import fc from 'fast-check';
import {
  aName,
  aTwin,
  expectStatus,
  Fixtures,
  type Party,
  pathOf,
  type TwinBody,
} from './support/factories.js';
import type { TestApi } from './support/test-app.js';
import {
  COHERENCE_BOUND_MS,
  eventually,
  type InstancePair,
  LagRecorder,
  sleep,
  startTwoInstances,
} from './support/two-instances.js';

// ---- the world and its reference model ---------------------------------------------------------------------------

const ACCOUNTS = 3;
const TWINS_PER_ACCOUNT = 2;
const NAMES_PER_RUN = 4;
/** Runs of the property; CACHE_PROPERTY_RUNS=1000 for a longer hunt. */
const RUNS = Number(process.env.CACHE_PROPERTY_RUNS ?? 60);
const TIME_LIMIT_MS = process.env.CACHE_PROPERTY_RUNS ? 3_600_000 : 45_000;

interface Caller {
  party: Party;
  /** Role twin_rule "true": sees every twin in details mode (and may attach identities to any twin). */
  seesAll: boolean;
  label: string;
}

/** `null` private; `"true"` public; or public to one account only. */
type Visibility = null | 'true' | { account: number };
type Validity = null | 'past' | 'future';

interface Row {
  name: string;
  twin: string;
  owner: string;
  visibility: string | null;
  validityTs: number | null;
}

type Model = Map<string, Row>;

const keyOf = (name: string, twin: string, owner: string) => `${name}|${twin}|${owner}`;

/** The context as the model reads it: whose rows count. */
type ContextSpec =
  | { kind: 'default' }
  | { kind: 'personal' }
  | { kind: 'system' }
  | { kind: 'accounts'; accounts: number[]; form: 'one' | 'comma' | 'array' };

interface World {
  accounts: string[];
  admins: Party[];
  /** Per account, a user who sees every twin: the writer of that account's identities. */
  anywhere: Party[];
  callers: Caller[];
  /** In answer order (twin creation time, then UUID). */
  twins: TwinBody[];
}

/** Resolution as docs/resolution.md describes it, as plainly as it reads. */
function expectedTwins(
  world: World,
  model: Model,
  caller: Caller,
  name: string,
  context: ContextSpec,
  details: boolean,
  nowTs: number,
): string[] {
  const me = caller.party.account;
  const owners =
    context.kind === 'default' || context.kind === 'personal'
      ? [me]
      : context.kind === 'system'
        ? undefined
        : (context.form === 'one' ? context.accounts.slice(0, 1) : context.accounts).map(
            (i) => world.accounts[i],
          );
  const kept = [...model.values()].filter(
    (r) => r.name === name && (owners === undefined || owners.includes(r.owner)) && maySee(r, me, nowTs),
  );
  const twins = world.twins.filter((t) => kept.some((r) => r.twin === t.uuid));
  return (details ? twins.filter((t) => t.owner === me || caller.seesAll) : twins).map((t) => t.uuid);
}

/** Personal, or public with a rule that is true for the caller; and valid. */
function maySee(r: Row, account: string, nowTs: number): boolean {
  const valid = r.validityTs === null || r.validityTs > nowTs;
  return valid && (r.owner === account || ruleAdmits(r.visibility, account));
}

function ruleAdmits(visibility: string | null, account: string): boolean {
  if (visibility === null) return false;
  if (visibility === 'true') return true;
  const m = /^account == '([0-9a-f-]{36})'$/.exec(visibility);
  if (!m) throw new Error(`the model does not know the rule ${visibility}`);
  return m[1] === account;
}

function ruleText(world: World, v: Visibility): string | null {
  return v === null || v === 'true' ? v : `account == '${world.accounts[v.account]}'`;
}

function validityTs(v: Validity): number | null {
  return v === null ? null : Date.now() / 1000 + (v === 'past' ? -3600 : 3600);
}

// ---- operations ----------------------------------------------------------------------------------------------------

type On = 'A' | 'B';

interface Target {
  /** Writer account index; the write is made by that account's see-everything user. */
  account: number;
  name: number;
  twin: number;
}
type Write =
  | ({ kind: 'create'; visibility: Visibility; validity: Validity } & Target)
  | ({ kind: 'patch'; visibility?: Visibility; validity?: Validity } & Target)
  | ({ kind: 'delete' } & Target);

interface ResolveOp {
  caller: number;
  names: number[];
  method: 'GET' | 'POST';
  context: ContextSpec;
  details: boolean;
}

type Op =
  | { kind: 'write'; on: On; write: Write }
  | { kind: 'resolve'; on: On; resolve: ResolveOp }
  /** A write on `on` while resolves of the same name run on both instances. */
  | { kind: 'race'; on: On; write: Write; readers: Array<{ on: On; caller: number; delayMs: number }> };

const on = fc.constantFrom<On>('A', 'B');
const visibility: fc.Arbitrary<Visibility> = fc.oneof(
  fc.constant(null),
  fc.constant('true' as const),
  fc.nat({ max: ACCOUNTS - 1 }).map((account) => ({ account })),
);
const validity = fc.constantFrom<Validity>(null, 'past', 'future');
const target = fc.record({
  account: fc.nat({ max: ACCOUNTS - 1 }),
  name: fc.nat({ max: NAMES_PER_RUN - 1 }),
  twin: fc.nat({ max: ACCOUNTS * TWINS_PER_ACCOUNT - 1 }),
});
const write: fc.Arbitrary<Write> = fc
  .oneof(
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('create' as const), visibility, validity }) },
    {
      weight: 2,
      arbitrary: fc
        .record({ kind: fc.constant('patch' as const), visibility, validity }, { requiredKeys: ['kind'] })
        .filter((p) => p.visibility !== undefined || p.validity !== undefined),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const) }) },
  )
  .chain((w) => target.map((t) => ({ ...w, ...t })));

const context: fc.Arbitrary<ContextSpec> = fc.oneof(
  fc.constant({ kind: 'default' as const }),
  fc.constant({ kind: 'personal' as const }),
  fc.constant({ kind: 'system' as const }),
  fc.record({
    kind: fc.constant('accounts' as const),
    accounts: fc.uniqueArray(fc.nat({ max: ACCOUNTS - 1 }), { minLength: 1, maxLength: ACCOUNTS }),
    form: fc.constantFrom('one' as const, 'comma' as const, 'array' as const),
  }),
);
const callerIndex = fc.nat({ max: ACCOUNTS * 2 - 1 });
const resolveOp: fc.Arbitrary<ResolveOp> = fc.record({
  caller: callerIndex,
  names: fc.uniqueArray(fc.nat({ max: NAMES_PER_RUN - 1 }), { minLength: 1, maxLength: NAMES_PER_RUN }),
  method: fc.constantFrom('GET' as const, 'POST' as const),
  context,
  details: fc.boolean(),
});
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('write' as const), on, write }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('resolve' as const), on, resolve: resolveOp }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('race' as const),
      on,
      write,
      readers: fc.array(fc.record({ on, caller: callerIndex, delayMs: fc.constantFrom(0, 0, 1, 2, 5) }), {
        minLength: 2,
        maxLength: 6,
      }),
    }),
  },
);

// ---- the suite -----------------------------------------------------------------------------------------------------

describe('resolution with the cache on, across two instances (property)', () => {
  let pair: InstancePair;
  let fx: Fixtures;
  const world: World = { accounts: [], admins: [], anywhere: [], callers: [], twins: [] };
  const lag = new LagRecorder();
  let answersChecked = 0;

  beforeAll(async () => {
    pair = await startTwoInstances();
    fx = await Fixtures.connect(pair.a);
    for (let i = 0; i < ACCOUNTS; i++) {
      const admin = await fx.anAccount(`account-${i}`);
      const anywhere = await fx.aUser(admin, { twinRule: 'true' });
      world.accounts.push(admin.account);
      world.admins.push(admin);
      world.anywhere.push(anywhere);
      world.callers.push({ party: admin, seesAll: false, label: `admin of ${i}` });
      world.callers.push({ party: anywhere, seesAll: true, label: `see-all user of ${i}` });
    }
    // Created one after another: creation order is answer order (ties, if any, by UUID).
    const twins: TwinBody[] = [];
    for (let t = 0; t < ACCOUNTS * TWINS_PER_ACCOUNT; t++) {
      twins.push(await aTwin(pair.a, world.admins[t % ACCOUNTS], { n: t }));
    }
    world.twins = twins.sort(
      (x, y) =>
        x.creation_certificate.created_ts - y.creation_certificate.created_ts || (x.uuid < y.uuid ? -1 : 1),
    );
  });
  afterAll(async () => {
    await fx.close();
    await pair.stop();
  });

  const instance = (which: On): TestApi => (which === 'A' ? pair.a : pair.b);

  /** Every twin in an answer is explained by a row of that name the caller may see, in one of the given states. */
  function expectNoLeak(models: Model[], caller: Caller, name: string, twins: string[], what: string): void {
    const nowTs = Date.now() / 1000;
    for (const twin of twins) {
      const explained = models.some((m) =>
        [...m.values()].some(
          (r) => r.name === name && r.twin === twin && maySee(r, caller.party.account, nowTs),
        ),
      );
      if (!explained) {
        const rows = models.map((m) => [...m.values()].filter((r) => r.name === name && r.twin === twin));
        throw new Error(
          `LEAK: ${caller.label} was shown twin ${twin} for ${name} (${what}) with no row it may see: ${JSON.stringify(rows)}`,
        );
      }
    }
  }

  interface Asked {
    caller: Caller;
    names: string[];
    context: ContextSpec;
    details: boolean;
    method: 'GET' | 'POST';
  }

  /** Sends one resolve; answers name → twin UUIDs (details: the UUIDs of the twin objects). */
  async function ask(api: TestApi, q: Asked): Promise<Map<string, string[]>> {
    const c = q.context;
    const accounts = c.kind === 'accounts' ? c.accounts.map((i) => world.accounts[i]) : [];
    const uuids = (twins: Array<string | TwinBody>) =>
      twins.map((t) => {
        if (typeof t === 'string') return t;
        const known = world.twins.find((w) => w.uuid === t.uuid);
        // Details show the twin as it is (no twin is changed by this test).
        expect(t).toEqual(known);
        return t.uuid;
      });
    const out = new Map<string, string[]>();
    if (q.method === 'GET') {
      const contextParam =
        c.kind === 'default'
          ? undefined
          : c.kind === 'personal' || c.kind === 'system'
            ? c.kind
            : c.form === 'array'
              ? accounts
              : c.form === 'comma'
                ? accounts.join(',')
                : accounts[0];
      for (const name of q.names) {
        const res = await api.get(`/resolve/${pathOf(name)}`, {
          secret: q.caller.party.secret,
          query: { context: contextParam, details: String(q.details) },
        });
        expectStatus(res, 200);
        out.set(name, uuids(res.body.twins));
      }
    } else {
      const contextBody =
        c.kind === 'default'
          ? {}
          : c.kind === 'personal' || c.kind === 'system'
            ? { context: c.kind }
            : { context: c.form === 'one' ? accounts[0] : accounts };
      const res = await api.post('/resolve', {
        secret: q.caller.party.secret,
        body: { identities: q.names, details: q.details, ...contextBody },
      });
      expectStatus(res, 200);
      for (const name of q.names) out.set(name, uuids(res.body.results[name].twins));
    }
    answersChecked += out.size;
    return out;
  }

  /** The answers `q` gets now, compared with the model; an explanation of the first difference, or undefined. */
  async function mismatch(api: TestApi, q: Asked, model: Model): Promise<string | undefined> {
    const got = await ask(api, q);
    for (const [name, twins] of got) {
      expectNoLeak([model], q.caller, name, twins, `${q.method} ${JSON.stringify(q.context)}`);
      const want = expectedTwins(world, model, q.caller, name, q.context, q.details, Date.now() / 1000);
      if (JSON.stringify(twins) !== JSON.stringify(want)) {
        return `${q.caller.label} ${q.method} ${name} context=${JSON.stringify(q.context)} details=${q.details}: got ${JSON.stringify(twins)}, want ${JSON.stringify(want)}`;
      }
    }
    return undefined;
  }

  /** What every caller sees of every name: system context for all, and details for the see-all users. */
  function survey(names: string[]): Asked[] {
    const asked: Asked[] = [];
    for (const caller of world.callers) {
      asked.push({ caller, names, context: { kind: 'system' }, details: false, method: 'POST' });
      if (caller.seesAll)
        asked.push({ caller, names, context: { kind: 'system' }, details: true, method: 'POST' });
    }
    return asked;
  }

  async function expectNow(api: TestApi, asked: Asked[], model: Model, what: string): Promise<void> {
    for (const q of asked) {
      const wrong = await mismatch(api, q, model);
      if (wrong) throw new Error(`${what}: ${wrong}`);
    }
  }

  async function expectWithinBound(api: TestApi, asked: Asked[], model: Model, what: string): Promise<void> {
    const started = performance.now();
    await eventually(
      async () => {
        for (const q of asked) {
          const wrong = await mismatch(api, q, model);
          if (wrong) return wrong;
        }
        return undefined;
      },
      (wrong) => wrong === undefined,
      { what },
    );
    lag.add(what, performance.now() - started);
  }

  /** Performs a write through the API and applies it to the model if the API accepted it (as the model predicts). */
  async function perform(api: TestApi, w: Write, names: string[], model: Model): Promise<boolean> {
    const name = names[w.name];
    const twin = world.twins[w.twin].uuid;
    const owner = world.accounts[w.account];
    const writer = world.anywhere[w.account];
    const key = keyOf(name, twin, owner);
    const exists = model.has(key);
    const path = `/twins/${twin}/identities/${pathOf(name)}`;
    if (w.kind === 'create') {
      const row = { visibility: ruleText(world, w.visibility), validityTs: validityTs(w.validity) };
      const res = await api.post(`/twins/${twin}/identities`, {
        secret: writer.secret,
        body: { identities: { [name]: { visibility: row.visibility, validity_ts: row.validityTs } } },
      });
      expectStatus(res, exists ? 400 : 201);
      if (!exists) model.set(key, { name, twin, owner, ...row });
    } else if (w.kind === 'patch') {
      const body: Record<string, unknown> = {};
      if (w.visibility !== undefined) body.visibility = ruleText(world, w.visibility);
      if (w.validity !== undefined) body.validity_ts = validityTs(w.validity);
      const res = await api.patch(path, { secret: writer.secret, body });
      expectStatus(res, exists ? 200 : 404);
      if (exists) {
        const row = model.get(key) as Row;
        model.set(key, {
          ...row,
          ...(body.visibility !== undefined ? { visibility: body.visibility as string | null } : {}),
          ...(body.validity_ts !== undefined ? { validityTs: body.validity_ts as number | null } : {}),
        });
      }
    } else {
      const res = await api.delete(path, { secret: writer.secret });
      expectStatus(res, exists ? 200 : 404);
      if (exists) model.delete(key);
    }
    return w.kind === 'create' ? !exists : exists;
  }

  async function afterWrite(writer: On, names: string[], model: Model, what: string): Promise<void> {
    const asked = survey(names);
    await expectNow(instance(writer), asked, model, `${what}: the writing instance ${writer}`);
    await expectWithinBound(
      instance(writer === 'A' ? 'B' : 'A'),
      asked,
      model,
      `${what}: the other instance of ${writer}`,
    );
  }

  async function run(ops: Op[]): Promise<void> {
    const names = Array.from({ length: NAMES_PER_RUN }, () => aName());
    const model: Model = new Map();
    for (const [step, o] of ops.entries()) {
      const what = `step ${step} (${o.kind} on ${o.on})`;
      if (o.kind === 'write') {
        if (await perform(instance(o.on), o.write, names, model)) await afterWrite(o.on, names, model, what);
      } else if (o.kind === 'resolve') {
        const r = o.resolve;
        const q: Asked = {
          caller: world.callers[r.caller],
          names: r.names.map((i) => names[i]),
          context: r.context,
          details: r.details,
          method: r.method,
        };
        // Every earlier write has converged everywhere: both instances must answer as the model does, now.
        await expectNow(instance(o.on), [q], model, what);
      } else {
        const before: Model = new Map(model);
        const name = names[o.write.name];
        const reads = o.readers.map(async (reader) => {
          await sleep(reader.delayMs);
          const caller = world.callers[reader.caller];
          const q: Asked = {
            caller,
            names: [name],
            context: { kind: 'system' },
            details: false,
            method: 'GET',
          };
          return { q, got: (await ask(instance(reader.on), q)).get(name) as string[] };
        });
        const [changed, ...answers] = await Promise.all([
          perform(instance(o.on), o.write, names, model),
          ...reads,
        ]);
        const after = model;
        for (const { q, got } of answers) {
          expectNoLeak([before, after], q.caller, name, got, `${what}, racing the write`);
          const nowTs = Date.now() / 1000;
          const wants = [before, after].map((m) =>
            JSON.stringify(expectedTwins(world, m, q.caller, name, q.context, false, nowTs)),
          );
          if (!wants.includes(JSON.stringify(got))) {
            throw new Error(
              `${what}: ${q.caller.label} got ${JSON.stringify(got)} for ${name} while racing the write; before ${wants[0]}, after ${wants[1]}`,
            );
          }
        }
        if (changed) await afterWrite(o.on, names, model, what);
      }
    }
    // The end state, on both, at once.
    for (const which of ['A', 'B'] as const)
      await expectNow(instance(which), survey(names), model, `end on ${which}`);
  }

  it(
    'matches the reference model on the writer at once and on the other instance within the bound, and never leaks',
    async () => {
      await fc.assert(fc.asyncProperty(fc.array(op, { minLength: 5, maxLength: 30 }), run), {
        numRuns: RUNS,
        endOnFailure: true,
        // Within the suite's budget on a slow machine; a longer hunt sets CACHE_PROPERTY_RUNS.
        interruptAfterTimeLimit: TIME_LIMIT_MS,
        markInterruptAsFailure: false,
      });
      process.stdout.write(`cache property: ${answersChecked} answers checked; ${lag.summary()}\n`);
      expect(lag.lags.length).toBeGreaterThan(0);
      expect(lag.maxMs).toBeLessThan(COHERENCE_BOUND_MS);
    },
    TIME_LIMIT_MS + 30_000,
  );

  it('finds the model wrong when an instance serves a stale answer (the check has teeth)', async () => {
    // A hand-made stale state: the model is told of a write that never happened.
    const name = aName();
    const model: Model = new Map([
      [
        keyOf(name, world.twins[0].uuid, world.accounts[0]),
        { name, twin: world.twins[0].uuid, owner: world.accounts[0], visibility: 'true', validityTs: null },
      ],
    ]);
    const asked = survey([name]);
    await expect(expectNow(pair.b, asked, model, 'stale')).rejects.toThrow(/got \[\], want \[/);
  });
});
