import {
  aName,
  anIdentity,
  attach,
  aTwin,
  expectStatus,
  Fixtures,
  type Party,
  pathOf,
  PUBLIC,
  resolve,
  terminate,
  trustedTwinHeader,
  type TwinBody,
} from './support/factories.js';
import { expectErrorShape, TestApi } from './support/test-app.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Answer order of docs/resolution.md: twin creation time, then UUID. */
function inAnswerOrder(twins: TwinBody[]): TwinBody[] {
  return [...twins].sort(
    (a, b) =>
      a.creation_certificate.created_ts - b.creation_certificate.created_ts || (a.uuid < b.uuid ? -1 : 1),
  );
}

describe('resolve', () => {
  let api: TestApi;
  let fx: Fixtures;
  let alice: Party;
  let bob: Party;
  let carol: Party;
  /** Users whose roles see every twin, so they may attach identities anywhere. */
  let bobAnywhere: Party;
  let carolAnywhere: Party;

  beforeAll(async () => {
    api = await TestApi.start();
    fx = await Fixtures.connect(api);
    alice = await fx.anAccount('alice');
    bob = await fx.anAccount('bob');
    carol = await fx.anAccount('carol');
    bobAnywhere = await fx.aUser(bob, { twinRule: 'true' });
    carolAnywhere = await fx.aUser(carol, { twinRule: 'true' });
  });
  afterAll(async () => {
    await fx.close();
    await api.stop();
  });

  describe('contexts × details', () => {
    /** One row of the index under the shared name, and who may see it, in plain words. */
    interface Row {
      owner: Party;
      twin: TwinBody;
      /** Foreign callers (accounts) the row's visibility admits while valid. */
      visibleTo: Party[];
    }
    const name = aName();
    let tA: TwinBody;
    let tB: TwinBody;
    let tC: TwinBody;
    let rows: Row[];
    let aliceSeesAll: Party;

    beforeAll(async () => {
      tA = await aTwin(api, alice, { kind: 'pallet' });
      tB = await aTwin(api, bob, { kind: 'crate' });
      tC = await aTwin(api, carol, { kind: 'pallet' });
      aliceSeesAll = await fx.aUser(alice, { twinRule: 'true' });
      const past = Date.now() / 1000 - 10;
      await attach(api, alice, tA.uuid, { [name]: anIdentity() });
      await attach(api, bobAnywhere, tB.uuid, { [name]: anIdentity({ visibility: PUBLIC }) });
      await attach(api, bobAnywhere, tA.uuid, {
        [name]: anIdentity({ visibility: `account == "${carol.account}"` }),
      });
      await attach(api, bobAnywhere, tC.uuid, {
        [name]: anIdentity({ visibility: PUBLIC, validity_ts: past }),
      });
      await attach(api, carol, tC.uuid, { [name]: anIdentity() });
      await attach(api, carolAnywhere, tB.uuid, {
        [name]: anIdentity({ visibility: `account == "${alice.account}"` }),
      });
      rows = [
        { owner: alice, twin: tA, visibleTo: [] },
        { owner: bob, twin: tB, visibleTo: [alice, carol] },
        { owner: bob, twin: tA, visibleTo: [carol] },
        // bob's row on tC is expired: visible to nobody but its owner's listings.
        { owner: carol, twin: tC, visibleTo: [] },
        { owner: carol, twin: tB, visibleTo: [alice] },
      ];
    });

    /** Resolution (docs/resolution.md), written plainly. `accounts` undefined = personal; 'system' = every owner. */
    function expected(
      caller: Party,
      accounts: string[] | 'system' | undefined,
      details: boolean,
      seesAll: boolean,
    ) {
      const inContext = (r: Row) =>
        accounts === 'system' ? true : (accounts ?? [caller.account]).includes(r.owner.account);
      const kept = rows.filter(
        (r) =>
          inContext(r) &&
          (r.owner.account === caller.account || r.visibleTo.some((p) => p.account === caller.account)),
      );
      const twins = inAnswerOrder([...new Map(kept.map((r) => [r.twin.uuid, r.twin])).values()]);
      if (!details) return twins.map((t) => t.uuid);
      return twins.filter((t) => seesAll || t.owner === caller.account).map((t) => t.uuid);
    }

    it('answers every context and details combination as the reference does, for every caller', async () => {
      const callers: Array<[Party, boolean]> = [
        [alice, false],
        [aliceSeesAll, true],
        [bob, false],
        [carol, false],
        [carolAnywhere, true],
      ];
      const contexts: Array<[string | string[] | undefined, string[] | 'system' | undefined]> = [
        [undefined, undefined],
        ['personal', undefined],
        ['PERSONAL', undefined],
        ['system', 'system'],
        ['System', 'system'],
        [alice.account, [alice.account]],
        [bob.account.toUpperCase(), [bob.account]],
        [carol.account, [carol.account]],
        [
          [alice.account, bob.account],
          [alice.account, bob.account],
        ],
        [`${bob.account},${carol.account}`, [bob.account, carol.account]],
        [`${alice.account} , ${carol.account}`, [alice.account, carol.account]],
        [
          [`${bob.account},${carol.account}`, alice.account],
          [alice.account, bob.account, carol.account],
        ],
      ];
      const detailsValues: Array<[string | undefined, boolean]> = [
        [undefined, false],
        ['false', false],
        ['FALSE', false],
        ['true', true],
        ['True', true],
      ];
      let checked = 0;
      for (const [caller, seesAll] of callers) {
        for (const [context, accounts] of contexts) {
          for (const [details, detailed] of detailsValues) {
            const got = await resolve(api, caller, name, { context, details });
            const ids = detailed ? (got as TwinBody[]).map((t) => t.uuid) : got;
            const want = expected(caller, accounts, detailed, seesAll);
            expect({ caller: caller.user, context, details, ids }).toEqual({
              caller: caller.user,
              context,
              details,
              ids: want,
            });
            checked++;
          }
        }
      }
      expect(checked).toBe(5 * 12 * 5);
    });

    it('answers twin objects in details mode, exactly as GET /twins/{twin} shows them', async () => {
      const got = (await resolve(api, aliceSeesAll, name, {
        context: 'system',
        details: 'true',
      })) as TwinBody[];
      expect(got).toEqual(inAnswerOrder([tA, tB]));
    });

    it('answers the same through POST /resolve, name by name', async () => {
      for (const [caller, context, details] of [
        [alice, 'system', false],
        [aliceSeesAll, [bob.account, carol.account], true],
        [carol, undefined, true],
        [bob, bob.account, false],
      ] as const) {
        const res = await api.post('/resolve', {
          secret: caller.secret,
          body: { identities: [name], ...(context === undefined ? {} : { context }), details },
        });
        expectStatus(res, 200);
        const query = { context: context as string | string[] | undefined, details: String(details) };
        expect(res.body.results[name]).toEqual({ twins: await resolve(api, caller, name, query) });
      }
    });

    it('never shows a private or invisible identity of another account, in any context or mode', async () => {
      const carolsPrivateTwin = tC.uuid; // carol's private row and bob's expired row are the only ones on tC
      for (const context of ['system', carol.account, bob.account, `${bob.account},${carol.account}`]) {
        for (const details of ['true', 'false']) {
          const got = await resolve(api, alice, name, { context, details });
          expect(JSON.stringify(got)).not.toContain(carolsPrivateTwin);
        }
      }
    });
  });

  describe('names and parameters', () => {
    it('answers 200 with an empty list for an unknown identity', async () => {
      const res = await api.get(`/resolve/${pathOf(aName())}`, {
        secret: alice.secret,
        query: { context: 'system' },
      });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ twins: [] });
    });

    it('decodes %23 once and resolves names of the maximum length', async () => {
      const twin = await aTwin(api, alice);
      const long = `Abcdefgh#${'x'.repeat(120)}${Date.now()}`.slice(0, 137);
      await attach(api, alice, twin.uuid, { [long]: anIdentity() });
      expect(await resolve(api, alice, long)).toEqual([twin.uuid]);
      const plain = aName();
      await attach(api, alice, twin.uuid, { [plain]: anIdentity() });
      const raw = await api.get(`/resolve/${plain.replace('#', '%23')}`, { secret: alice.secret });
      expect(raw.body).toEqual({ twins: [twin.uuid] });
      const twice = await api.get(`/resolve/${plain.replace('#', '%2523')}`, { secret: alice.secret });
      expectErrorShape(twice, 400, 'invalid_identity');
    });

    it.each([
      'RFID%23',
      'no-hash',
      '%23abc',
      'abcdefghi%23x',
      'A%23b%20c',
      `A%23${'x'.repeat(129)}`,
      'A%23b%2Fc',
    ])('refuses the invalid name %s with invalid_identity', async (segment) => {
      expectErrorShape(
        await api.get(`/resolve/${segment}`, { secret: alice.secret }),
        400,
        'invalid_identity',
      );
    });

    it.each([
      [{ context: 'everyone' }],
      [{ context: '' }],
      [{ context: 'personal,system' }],
      [{ context: ['personal', 'system'] }],
      [{ context: `${'0'.repeat(8)}-0000-4000-8000-00000000000,` }],
      [
        {
          context: Array.from(
            { length: 101 },
            (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
          ),
        },
      ],
      [{ details: 'yes' }],
      [{ details: ['true', 'false'] }],
    ])('refuses %j with invalid_parameter', async (query) => {
      const res = await api.get(`/resolve/${pathOf(aName())}`, { secret: alice.secret, query });
      expectErrorShape(res, 400, 'invalid_parameter');
    });

    it('accepts a list of 100 accounts', async () => {
      const context = Array.from(
        { length: 100 },
        (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      );
      expect(await resolve(api, alice, aName(), { context: context.join(',') })).toEqual([]);
    });

    it('refuses an undecodable X-TrustedTwin header', async () => {
      const res = await api.get(`/resolve/${pathOf(aName())}`, {
        secret: alice.secret,
        headers: { 'x-trustedtwin': 'not base64!' },
      });
      expectErrorShape(res, 400, 'invalid_header');
    });

    it('needs the resolve_twin_identity action', async () => {
      const writer = await fx.aUser(alice, { effect: 'allow', actions: ['create_twin'] });
      expectErrorShape(
        await api.get(`/resolve/${pathOf(aName())}`, { secret: writer.secret }),
        403,
        'forbidden',
      );
      expectErrorShape(await api.get(`/resolve/${pathOf(aName())}`), 401);
    });
  });

  describe('validity and termination', () => {
    it('stops resolving an identity the moment its validity_ts passes', async () => {
      const twin = await aTwin(api, alice);
      const own = aName();
      const shared = aName();
      const validity = Date.now() / 1000 + 1.0;
      await attach(api, alice, twin.uuid, { [own]: anIdentity({ validity_ts: validity }) });
      await attach(api, bobAnywhere, twin.uuid, {
        [shared]: anIdentity({ visibility: PUBLIC, validity_ts: validity }),
      });
      expect(await resolve(api, alice, own)).toEqual([twin.uuid]);
      expect(await resolve(api, alice, shared, { context: 'system' })).toEqual([twin.uuid]);
      const batch = await api.post('/resolve', {
        secret: alice.secret,
        body: { identities: [own], details: true },
      });
      expect(batch.body.results[own].twins).toHaveLength(1);

      await sleep(Math.max(0, validity * 1000 - Date.now()) + 50);
      expect(await resolve(api, alice, own)).toEqual([]);
      expect(await resolve(api, alice, shared, { context: 'system' })).toEqual([]);
      const after = await api.post('/resolve', {
        secret: alice.secret,
        body: { identities: [own], details: true },
      });
      expect(after.body.results[own]).toEqual({ twins: [] });
      // Still the owner's to see among expired identities.
      const listing = await api.get(`/twins/${twin.uuid}/identities`, {
        secret: alice.secret,
        query: { show_expired: 'true', show_valid: 'false' },
      });
      expect(Object.keys(listing.body.accounts[alice.account])).toEqual([own]);
    });

    it('keeps resolving identities on terminated twins, showing them as terminated', async () => {
      const twin = await aTwin(api, alice, { kind: 'pallet' });
      const name = aName();
      await attach(api, alice, twin.uuid, { [name]: anIdentity() });
      const terminated = await terminate(api, alice, twin.uuid);
      expect(await resolve(api, alice, name)).toEqual([twin.uuid]);
      expect(await resolve(api, alice, name, { details: 'true' })).toEqual([terminated]);
    });
  });

  describe('rules across accounts', () => {
    let pallet: TwinBody;
    let crate: TwinBody;
    let terminatedTwin: TwinBody;

    beforeAll(async () => {
      pallet = await aTwin(api, bob, { kind: 'pallet', site: 'WAW' });
      crate = await aTwin(api, bob, { kind: 'crate' });
      terminatedTwin = await aTwin(api, bob, { kind: 'pallet' });
      await terminate(api, bob, terminatedTwin.uuid);
    });

    /** bob attaches `name` to the given twins with `visibility`; returns the name. */
    async function shared(visibility: string, twins: TwinBody[] = [pallet]): Promise<string> {
      const name = aName();
      for (const twin of twins) await attach(api, bob, twin.uuid, { [name]: anIdentity({ visibility }) });
      return name;
    }

    it('reads the twin description through TWIN.*', async () => {
      const name = await shared('TWIN.kind == "pallet"', [pallet, crate]);
      expect(await resolve(api, alice, name, { context: bob.account })).toEqual([pallet.uuid]);
    });

    it('reads the request dictionary through DICT.*, from base64 or plain JSON', async () => {
      const name = await shared('DICT.site =~ "WAW-[0-9]+"');
      const query = { context: 'system' };
      expect(await resolve(api, alice, name, query, trustedTwinHeader({ site: 'WAW-12' }))).toEqual([
        pallet.uuid,
      ]);
      expect(await resolve(api, alice, name, query, { 'x-trustedtwin': '{"site": "WAW-7"}' })).toEqual([
        pallet.uuid,
      ]);
      expect(await resolve(api, alice, name, query, trustedTwinHeader({ site: 'WAW-12x' }))).toEqual([]);
      expect(await resolve(api, alice, name, query, trustedTwinHeader({ site: 'KRK-1' }))).toEqual([]);
      expect(await resolve(api, alice, name, query)).toEqual([]);
      const batch = await api.post('/resolve', {
        secret: alice.secret,
        headers: trustedTwinHeader({ site: 'WAW-1' }),
        body: { identities: [name], context: 'system' },
      });
      expect(batch.body.results[name]).toEqual({ twins: [pallet.uuid] });
    });

    it('reads the caller through account, user and USER.*', async () => {
      const byAccount = await shared(`account == "${alice.account}"`);
      expect(await resolve(api, alice, byAccount, { context: 'system' })).toEqual([pallet.uuid]);
      expect(await resolve(api, carol, byAccount, { context: 'system' })).toEqual([]);
      const warsaw = await fx.aUser(carol, { userDescription: { site: 'WAW' } });
      const byUser = await shared('USER.site == "WAW"');
      expect(await resolve(api, warsaw, byUser, { context: 'system' })).toEqual([pallet.uuid]);
      expect(await resolve(api, carol, byUser, { context: 'system' })).toEqual([]);
    });

    it('reads the clock through now', async () => {
      const future = Math.floor(Date.now() / 1000) + 3600;
      const before = await shared(`now < ${future}`);
      const after = await shared(`now > ${future}`);
      expect(await resolve(api, alice, before, { context: 'system' })).toEqual([pallet.uuid]);
      expect(await resolve(api, alice, after, { context: 'system' })).toEqual([]);
    });

    it('reads twin_status and twin_owner', async () => {
      const alive = await shared('twin_status == "alive"', [pallet, terminatedTwin]);
      expect(await resolve(api, alice, alive, { context: 'system' })).toEqual([pallet.uuid]);
      const ownersOnly = await shared('twin_owner == account', [pallet]);
      expect(await resolve(api, alice, ownersOnly, { context: 'system' })).toEqual([]);
    });

    it('fails closed when a rule cannot be evaluated', async () => {
      const name = await shared('TWIN.kind + 1 > 0 or DICT.missing.deeper == 1');
      expect(await resolve(api, alice, name, { context: 'system' })).toEqual([]);
    });
  });

  describe('role rules', () => {
    it('twin_rule decides which foreign twins details=true shows', async () => {
      const crate = await aTwin(api, bob, { kind: 'crate' });
      const pallet = await aTwin(api, bob, { kind: 'pallet' });
      const own = await aTwin(api, alice);
      const name = aName();
      await attach(api, bob, crate.uuid, { [name]: anIdentity({ visibility: PUBLIC }) });
      await attach(api, bob, pallet.uuid, { [name]: anIdentity({ visibility: PUBLIC }) });
      await attach(api, alice, own.uuid, { [name]: anIdentity() });
      const crates = await fx.aUser(alice, { twinRule: 'TWIN.kind == "crate"' });
      const uuids = (twins: unknown[]) => (twins as TwinBody[]).map((t) => t.uuid);
      const all = inAnswerOrder([crate, pallet, own]).map((t) => t.uuid);
      expect(await resolve(api, crates, name, { context: 'system' })).toEqual(all);
      expect(uuids(await resolve(api, crates, name, { context: 'system', details: 'true' }))).toEqual(
        inAnswerOrder([crate, own]).map((t) => t.uuid),
      );
      expect(uuids(await resolve(api, alice, name, { context: 'system', details: 'true' }))).toEqual([
        own.uuid,
      ]);
    });

    it('identity_rule restricts what the user sees, own identities included', async () => {
      const mine = await aTwin(api, alice);
      const theirs = await aTwin(api, bob);
      const rfid = aName('RFID');
      const gtin = aName('GTIN');
      for (const name of [rfid, gtin]) {
        await attach(api, alice, mine.uuid, { [name]: anIdentity() });
        await attach(api, bob, theirs.uuid, { [name]: anIdentity({ visibility: PUBLIC }) });
      }
      const rfidOnly = await fx.aUser(alice, { identityRule: 'identity =~ "RFID#.*"' });
      expect(await resolve(api, rfidOnly, rfid, { context: 'system' })).toEqual(
        inAnswerOrder([mine, theirs]).map((t) => t.uuid),
      );
      expect(await resolve(api, rfidOnly, gtin, { context: 'system' })).toEqual([]);
      const ownTwinsOnly = await fx.aUser(alice, { identityRule: 'twin_owner == account' });
      expect(await resolve(api, ownTwinsOnly, gtin, { context: 'system' })).toEqual([mine.uuid]);
    });
  });

  describe('POST /resolve', () => {
    it('resolves each name on its own and reports a bad name as an error entry', async () => {
      const twin = await aTwin(api, alice);
      const [known, unknown] = [aName(), aName()];
      await attach(api, alice, twin.uuid, { [known]: anIdentity() });
      const res = await api.post('/resolve', {
        secret: alice.secret,
        body: { identities: [known, unknown, 'RFID#', 'toString', known] },
      });
      expectStatus(res, 200);
      expect(res.body).toEqual({
        results: {
          [known]: { twins: [twin.uuid] },
          [unknown]: { twins: [] },
          'RFID#': {
            error: { subcode: 'invalid_identity', description: expect.stringContaining("'RFID#'") },
          },
          toString: { error: { subcode: 'invalid_identity', description: expect.any(String) } },
        },
      });
    });

    it('takes the context as a string or a list, and details as a boolean', async () => {
      const twin = await aTwin(api, bob);
      const name = aName();
      await attach(api, bob, twin.uuid, { [name]: anIdentity({ visibility: PUBLIC }) });
      for (const context of [bob.account, [bob.account], [carol.account, bob.account], 'system']) {
        const res = await api.post('/resolve', {
          secret: alice.secret,
          body: { identities: [name], context },
        });
        expect(res.body.results[name]).toEqual({ twins: [twin.uuid] });
      }
      const detailed = await api.post('/resolve', {
        secret: alice.secret,
        body: { identities: [name], context: 'system', details: true },
      });
      expect(detailed.body.results[name]).toEqual({ twins: [] }); // alice may not see bob's twin
      const empty = await api.post('/resolve', { secret: alice.secret, body: { identities: [] } });
      expect(empty.body).toEqual({ results: {} });
    });

    it('resolves 1,000 names in one call', async () => {
      const twin = await aTwin(api, alice);
      const names = Array.from({ length: 1000 }, () => aName());
      await attach(
        api,
        alice,
        twin.uuid,
        Object.fromEntries(names.slice(0, 500).map((n) => [n, anIdentity()])),
      );
      const res = await api.post('/resolve', {
        secret: alice.secret,
        body: { identities: names, details: true },
      });
      expectStatus(res, 200);
      expect(Object.keys(res.body.results)).toHaveLength(1000);
      expect(names.filter((n) => res.body.results[n].twins.length === 1)).toEqual(names.slice(0, 500));
    });

    it.each([
      ['1,001 names', () => ({ identities: Array.from({ length: 1001 }, () => aName()) }), 'invalid_body'],
      ['a non-string name', () => ({ identities: [aName(), 5] }), 'invalid_body'],
      ['no identities', () => ({ context: 'system' }), 'invalid_body'],
      ['a string details', () => ({ identities: [aName()], details: 'true' }), 'invalid_body'],
      ['a bad context', () => ({ identities: [aName()], context: ['system', 'x'] }), 'invalid_parameter'],
      ['an empty context list', () => ({ identities: [aName()], context: [] }), 'invalid_parameter'],
      ['an unknown attribute', () => ({ identities: [], names: [] }), 'unknown_attribute'],
      ['a non-object body', () => [aName()], 'invalid_body'],
    ])('refuses %s', async (_label, body, subcode) => {
      expectErrorShape(await api.post('/resolve', { secret: alice.secret, body: body() }), 400, subcode);
    });
  });
});
