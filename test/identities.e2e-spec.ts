import { randomUUID } from 'node:crypto';
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
  terminate,
} from './support/factories.js';
import { expectErrorShape, TestApi } from './support/test-app.js';

interface ListingBody {
  accounts: Record<string, Record<string, { visibility?: string | null; validity_ts: number | null }>>;
}

describe('identities', () => {
  let api: TestApi;
  let fx: Fixtures;
  let alice: Party;
  let bob: Party;
  /** Users of bob's and carol's accounts whose roles may see alice's twins (so they may attach identities to them). */
  let bobOnAlice: Party;
  let carolOnAlice: Party;
  let carol: Party;

  beforeAll(async () => {
    api = await TestApi.start();
    fx = await Fixtures.connect(api);
    alice = await fx.anAccount('alice');
    bob = await fx.anAccount('bob');
    carol = await fx.anAccount('carol');
    bobOnAlice = await fx.aUser(bob, { twinRule: `twin_owner == "${alice.account}"` });
    carolOnAlice = await fx.aUser(carol, { twinRule: `twin_owner == "${alice.account}"` });
  });
  afterAll(async () => {
    await fx.close();
    await api.stop();
  });

  const identityUrl = (twin: string, name: string) => `/twins/${twin}/identities/${pathOf(name)}`;

  describe('POST /twins/{twin}/identities', () => {
    it('creates identities with their attributes and certificates', async () => {
      const twin = await aTwin(api, alice);
      const [a, b] = [aName(), aName('GTIN')];
      const res = await api.post(`/twins/${twin.uuid}/identities`, {
        secret: alice.secret,
        body: {
          identities: { [a]: anIdentity(), [b]: anIdentity({ visibility: PUBLIC, validity_ts: 4102444800 }) },
        },
      });
      expectStatus(res, 201);
      const created = res.body.identities[a].created_ts;
      expect(res.body).toEqual({
        identities: {
          [a]: {
            visibility: null,
            validity_ts: null,
            created_ts: created,
            updated_ts: created,
            creation_certificate: {
              identity: a,
              twin: twin.uuid,
              created_ts: created,
              creator: alice.account,
            },
          },
          [b]: {
            visibility: 'true',
            validity_ts: 4102444800,
            created_ts: created,
            updated_ts: created,
            creation_certificate: {
              identity: b,
              twin: twin.uuid,
              created_ts: created,
              creator: alice.account,
            },
          },
        },
      });
    });

    it('attaches to a terminated twin and to a foreign twin the caller may see', async () => {
      const twin = await aTwin(api, alice);
      await terminate(api, alice, twin.uuid);
      await attach(api, alice, twin.uuid, { [aName()]: anIdentity() });
      await attach(api, bobOnAlice, twin.uuid, { [aName()]: anIdentity() });
      const hidden = await api.post(`/twins/${twin.uuid}/identities`, {
        secret: bob.secret,
        body: { identities: { [aName()]: anIdentity() } },
      });
      expectErrorShape(hidden, 404, 'not_found');
    });

    it('is all or none: an identity the account already holds fails the whole batch with identity_exists', async () => {
      const twin = await aTwin(api, alice);
      const existing = aName();
      await attach(api, alice, twin.uuid, { [existing]: anIdentity() });
      const fresh = aName();
      const res = await api.post(`/twins/${twin.uuid}/identities`, {
        secret: alice.secret,
        body: { identities: { [fresh]: anIdentity(), [existing]: anIdentity({ visibility: PUBLIC }) } },
      });
      expectErrorShape(res, 400, 'identity_exists');
      expect(res.body.description).toContain(existing);
      expectErrorShape(await api.get(identityUrl(twin.uuid, fresh), { secret: alice.secret }), 404);
      // The existing one is untouched, and another account may hold the same name on the same twin.
      expect(
        (await api.get(identityUrl(twin.uuid, existing), { secret: alice.secret })).body.visibility,
      ).toBeNull();
      await attach(api, bobOnAlice, twin.uuid, { [existing]: anIdentity() });
    });

    it('accepts 1,000 names in one call and refuses 0 or 1,001', async () => {
      const twin = await aTwin(api, alice);
      const many = (n: number) =>
        Object.fromEntries(Array.from({ length: n }, () => [aName(), anIdentity()]));
      expectStatus(
        await api.post(`/twins/${twin.uuid}/identities`, {
          secret: alice.secret,
          body: { identities: many(1000) },
        }),
        201,
      );
      for (const n of [0, 1001]) {
        const res = await api.post(`/twins/${twin.uuid}/identities`, {
          secret: alice.secret,
          body: { identities: many(n) },
        });
        expectErrorShape(res, 400, 'invalid_body');
      }
    });

    it.each([
      ['an invalid name', () => ({ identities: { 'RFID#': {} } }), 'invalid_identity'],
      [
        'a rule with a syntax error',
        () => ({ identities: { [aName()]: { visibility: 'account ==' } } }),
        'invalid_rule',
      ],
      [
        'a rule naming an unknown variable',
        () => ({ identities: { [aName()]: { visibility: 'foo == 1' } } }),
        'invalid_rule',
      ],
      [
        'an invalid regular expression',
        () => ({ identities: { [aName()]: { visibility: 'DICT.a =~ "("' } } }),
        'invalid_rule',
      ],
      [
        'a rule over 2,048 characters',
        () => ({ identities: { [aName()]: { visibility: `${'1 + '.repeat(600)}1 == 1` } } }),
        'invalid_rule',
      ],
      [
        'a string validity_ts',
        () => ({ identities: { [aName()]: { validity_ts: '2030' } } }),
        'invalid_body',
      ],
      [
        'an unknown identity attribute',
        () => ({ identities: { [aName()]: { owner: 'x' } } }),
        'unknown_attribute',
      ],
      ['an unknown body attribute', () => ({ identities: {}, twin: 'x' }), 'unknown_attribute'],
      ['an array of names', () => ({ identities: [aName()] }), 'invalid_body'],
      ['no identities', () => ({}), 'invalid_body'],
    ])('refuses %s', async (_label, body, subcode) => {
      const twin = await aTwin(api, alice);
      const res = await api.post(`/twins/${twin.uuid}/identities`, { secret: alice.secret, body: body() });
      expectErrorShape(res, 400, subcode);
    });

    it('refuses a __proto__ key as bad input', async () => {
      const twin = await aTwin(api, alice);
      const raw = '{"identities": {"__proto__": {"visibility": null}}}';
      expectErrorShape(await api.post(`/twins/${twin.uuid}/identities`, { secret: alice.secret, raw }), 400);
    });

    it('names the position of a rule error', async () => {
      const twin = await aTwin(api, alice);
      const res = await api.post(`/twins/${twin.uuid}/identities`, {
        secret: alice.secret,
        body: { identities: { [aName()]: { visibility: 'account == ' } } },
      });
      expectErrorShape(res, 400, 'invalid_rule');
      expect(res.body.description).toMatch(/position \d+/);
    });
  });

  describe('GET / PATCH / DELETE one identity', () => {
    it('shows only the caller’s own identity; a foreign one is 404 even when public', async () => {
      const twin = await aTwin(api, alice);
      const name = aName();
      await attach(api, bobOnAlice, twin.uuid, { [name]: anIdentity({ visibility: PUBLIC }) });
      expectErrorShape(await api.get(identityUrl(twin.uuid, name), { secret: alice.secret }), 404);
      const own = await api.get(identityUrl(twin.uuid, name), { secret: bobOnAlice.secret });
      expectStatus(own, 200);
      expect(own.body.creation_certificate).toMatchObject({
        identity: name,
        twin: twin.uuid,
        creator: bob.account,
      });
      // Bob's admin may not see alice's twin at all.
      expectErrorShape(await api.get(identityUrl(twin.uuid, name), { secret: bob.secret }), 404);
    });

    it('answers 400 for an invalid name and 404 for an unknown twin', async () => {
      const twin = await aTwin(api, alice);
      expectErrorShape(
        await api.get(identityUrl(twin.uuid, 'no-hash'), { secret: alice.secret }),
        400,
        'invalid_identity',
      );
      expectErrorShape(await api.get(identityUrl(randomUUID(), aName()), { secret: alice.secret }), 404);
    });

    it('replaces the attributes given and keeps the others', async () => {
      const twin = await aTwin(api, alice);
      const name = aName();
      await attach(api, alice, twin.uuid, {
        [name]: anIdentity({ visibility: PUBLIC, validity_ts: 4102444800 }),
      });
      const url = identityUrl(twin.uuid, name);
      const one = await api.patch(url, { secret: alice.secret, body: { validity_ts: null } });
      expectStatus(one, 200);
      expect(one.body).toMatchObject({ visibility: 'true', validity_ts: null });
      const two = await api.patch(url, { secret: alice.secret, body: { visibility: 'account == "x"' } });
      expect(two.body).toMatchObject({ visibility: 'account == "x"', validity_ts: null });
      expect(two.body.updated_ts).toBeGreaterThanOrEqual(two.body.created_ts);
      const three = await api.patch(url, {
        secret: alice.secret,
        body: { visibility: null, validity_ts: 2e9 },
      });
      expect(three.body).toMatchObject({ visibility: null, validity_ts: 2e9 });
      expect((await api.get(url, { secret: alice.secret })).body).toEqual(three.body);
      expectErrorShape(
        await api.patch(url, { secret: alice.secret, body: { visibility: '(' } }),
        400,
        'invalid_rule',
      );
      expectErrorShape(
        await api.patch(url, { secret: alice.secret, body: { name: 'x' } }),
        400,
        'unknown_attribute',
      );
      expectErrorShape(await api.patch(url, { secret: alice.secret, body: [] }), 400);
      expectErrorShape(await api.patch(url, { secret: bobOnAlice.secret, body: { visibility: null } }), 404);
    });

    it('deletes and answers with the deleted identity; a second delete is 404', async () => {
      const twin = await aTwin(api, alice);
      const name = aName();
      await attach(api, alice, twin.uuid, { [name]: anIdentity({ validity_ts: 1 }) });
      const url = identityUrl(twin.uuid, name);
      const got = await api.get(url, { secret: alice.secret });
      expect(got.body.validity_ts).toBe(1); // an expired identity is still its owner's to manage
      const deleted = await api.delete(url, { secret: alice.secret });
      expectStatus(deleted, 200);
      expect(deleted.body).toEqual(got.body);
      expectErrorShape(await api.get(url, { secret: alice.secret }), 404);
      expectErrorShape(await api.delete(url, { secret: alice.secret }), 404);
    });

    it('applies the role identity_rule to the caller’s own identities', async () => {
      const twin = await aTwin(api, alice);
      const [rfid, gtin] = [aName('RFID'), aName('GTIN')];
      await attach(api, alice, twin.uuid, { [rfid]: anIdentity(), [gtin]: anIdentity() });
      const rfidOnly = await fx.aUser(alice, { identityRule: 'identity =~ "RFID#.*"' });
      expectStatus(await api.get(identityUrl(twin.uuid, rfid), { secret: rfidOnly.secret }), 200);
      expectErrorShape(await api.get(identityUrl(twin.uuid, gtin), { secret: rfidOnly.secret }), 404);
      expectErrorShape(await api.delete(identityUrl(twin.uuid, gtin), { secret: rfidOnly.secret }), 404);
      const listed = await api.get<ListingBody>(`/twins/${twin.uuid}/identities`, {
        secret: rfidOnly.secret,
      });
      expect(Object.keys(listed.body.accounts[alice.account])).toEqual([rfid]);
    });
  });

  describe('GET /twins/{twin}/identities (filters)', () => {
    /** One identity of the world, with the facts the filters and visibility look at, in plain words. */
    interface Fixture {
      name: string;
      owner: Party;
      valid: boolean;
      isPublic: boolean;
      /** Whether alice may see it when it is foreign (public, rule true for alice, valid). */
      visibleToAlice: boolean;
    }
    let twin: string;
    const world: Fixture[] = [];

    beforeAll(async () => {
      twin = (await aTwin(api, alice)).uuid;
      const past = Date.now() / 1000 - 100;
      const future = Date.now() / 1000 + 3600;
      const add = async (
        owner: Party,
        attributes: { visibility?: string | null; validity_ts?: number | null },
        facts: Omit<Fixture, 'name' | 'owner'>,
      ) => {
        const name = aName();
        await attach(api, owner, twin, { [name]: anIdentity(attributes) });
        world.push({
          name,
          owner: owner === bobOnAlice ? bob : owner === carolOnAlice ? carol : owner,
          ...facts,
        });
      };
      // alice's own: every combination of valid/expired × public/private.
      await add(alice, { visibility: PUBLIC }, { valid: true, isPublic: true, visibleToAlice: true });
      await add(alice, { validity_ts: future }, { valid: true, isPublic: false, visibleToAlice: true });
      await add(
        alice,
        { visibility: PUBLIC, validity_ts: past },
        { valid: false, isPublic: true, visibleToAlice: true },
      );
      await add(alice, { validity_ts: past }, { valid: false, isPublic: false, visibleToAlice: true });
      // bob's: public to all, public to alice by rule, public to carol only, private, public but expired.
      await add(bobOnAlice, { visibility: PUBLIC }, { valid: true, isPublic: true, visibleToAlice: true });
      await add(
        bobOnAlice,
        { visibility: `account == "${alice.account}"`, validity_ts: future },
        { valid: true, isPublic: true, visibleToAlice: true },
      );
      await add(
        bobOnAlice,
        { visibility: `account == "${carol.account}"` },
        { valid: true, isPublic: true, visibleToAlice: false },
      );
      await add(bobOnAlice, {}, { valid: true, isPublic: false, visibleToAlice: false });
      await add(
        bobOnAlice,
        { visibility: PUBLIC, validity_ts: past },
        { valid: false, isPublic: true, visibleToAlice: false },
      );
      // carol's: public to all.
      await add(carolOnAlice, { visibility: PUBLIC }, { valid: true, isPublic: true, visibleToAlice: true });
    });

    /** The reference: docs/visibility.md "Listing a twin's identities", written out plainly. */
    function expected(f: {
      personal: boolean;
      valid: boolean;
      expired: boolean;
      public: boolean;
      private: boolean;
      foreign: string; // 'none', 'all' or an account UUID
    }): Record<string, string[]> {
      const out: Record<string, string[]> = {};
      for (const i of world) {
        const personal = i.owner.account === alice.account;
        const listed = personal
          ? f.personal && (i.valid ? f.valid : f.expired) && (i.isPublic ? f.public : f.private)
          : (f.foreign === 'all' || f.foreign === i.owner.account) && i.visibleToAlice;
        if (listed) (out[i.owner.account] ??= []).push(i.name);
      }
      for (const names of Object.values(out)) names.sort();
      return out;
    }

    function names(body: ListingBody): Record<string, string[]> {
      return Object.fromEntries(
        Object.entries(body.accounts).map(([a, ids]) => [a, Object.keys(ids).sort()]),
      );
    }

    it('defaults to personal, valid, public and private identities', async () => {
      const res = await api.get<ListingBody>(`/twins/${twin}/identities`, { secret: alice.secret });
      expectStatus(res, 200);
      expect(names(res.body)).toEqual(
        expected({
          personal: true,
          valid: true,
          expired: false,
          public: true,
          private: true,
          foreign: 'none',
        }),
      );
    });

    it('honours every combination of the six filters', async () => {
      const bools = [true, false];
      let checked = 0;
      for (const personal of bools)
        for (const valid of bools)
          for (const expired of bools)
            for (const pub of bools)
              for (const priv of bools)
                for (const foreign of ['none', 'all', bob.account, carol.account, 'absent']) {
                  const query: Record<string, string> = {
                    show_personal: String(personal),
                    show_valid: valid ? 'True' : 'FALSE',
                    show_expired: String(expired),
                    show_public: String(pub),
                    show_private: String(priv),
                  };
                  if (foreign === 'none') query.show_foreign = 'false';
                  else if (foreign === 'all') query.show_foreign = 'true';
                  else if (foreign !== 'absent') query.show_foreign = foreign.toUpperCase();
                  const res = await api.get<ListingBody>(`/twins/${twin}/identities`, {
                    secret: alice.secret,
                    query,
                  });
                  expectStatus(res, 200);
                  const f = { personal, valid, expired, public: pub, private: priv };
                  const want = expected({ ...f, foreign: foreign === 'absent' ? 'none' : foreign });
                  expect({ query, got: names(res.body) }).toEqual({ query, got: want });
                  checked++;
                }
      expect(checked).toBe(160);
    });

    it('shows visibility on personal entries only, never another account’s rule text', async () => {
      const res = await api.get<ListingBody>(`/twins/${twin}/identities`, {
        secret: alice.secret,
        query: { show_foreign: 'true', show_expired: 'true' },
      });
      for (const [account, entries] of Object.entries(res.body.accounts)) {
        for (const entry of Object.values(entries)) {
          expect(Object.keys(entry).sort()).toEqual(
            account === alice.account
              ? ['created_ts', 'updated_ts', 'validity_ts', 'visibility']
              : ['created_ts', 'updated_ts', 'validity_ts'],
          );
        }
      }
      expect(Object.keys(res.body.accounts)[0]).toBe(alice.account);
      // bob's rules name accounts; alice's own rules are all "true".
      expect(res.text).not.toContain('account ==');
    });

    it('lists from another account’s point of view with its own personal entries', async () => {
      const res = await api.get<ListingBody>(`/twins/${twin}/identities`, {
        secret: carolOnAlice.secret,
        query: { show_foreign: alice.account },
      });
      const alicePublicValid = world
        .filter((i) => i.owner === alice && i.isPublic && i.valid)
        .map((i) => i.name);
      expect(names(res.body)).toEqual({
        [carol.account]: world.filter((i) => i.owner === carol).map((i) => i.name),
        [alice.account]: alicePublicValid.sort(),
      });
    });

    it.each([
      [{ show_personal: 'yes' }],
      [{ show_valid: '1' }],
      [{ show_expired: '' }],
      [{ show_public: ['true', 'false'] }],
      [{ show_private: 'nope' }],
      [{ show_foreign: 'someone' }],
    ])('refuses %j with invalid_parameter', async (query) => {
      const res = await api.get(`/twins/${twin}/identities`, { secret: alice.secret, query });
      expectErrorShape(res, 400, 'invalid_parameter');
    });

    it('is 404 for a twin the caller may not see', async () => {
      expectErrorShape(await api.get(`/twins/${twin}/identities`, { secret: bob.secret }), 404);
      expectErrorShape(await api.get(`/twins/${randomUUID()}/identities`, { secret: alice.secret }), 404);
    });
  });

  describe('audit log', () => {
    it('records each identity write with the request id', async () => {
      const hank = await fx.anAccount('hank');
      const twin = await aTwin(api, hank);
      const [a, b] = [aName(), aName()];
      const created = await api.post(`/twins/${twin.uuid}/identities`, {
        secret: hank.secret,
        body: { identities: { [a]: anIdentity(), [b]: anIdentity() } },
      });
      const updated = await api.patch(identityUrl(twin.uuid, a), {
        secret: hank.secret,
        body: { validity_ts: 5e9 },
      });
      const deleted = await api.delete(identityUrl(twin.uuid, b), { secret: hank.secret });
      const refused = await api.post(`/twins/${twin.uuid}/identities`, {
        secret: hank.secret,
        body: { identities: { [a]: anIdentity() } },
      });
      expect(refused.status).toBe(400);
      const log = await api.get('/log', { secret: hank.secret });
      const trace = (r: { headers: Headers }) => r.headers.get('x-request-id');
      const rows = log.body.entries.map((e: Record<string, unknown>) => [
        e.action,
        e.target_type,
        e.target,
        e.trace,
      ]);
      expect(rows).toHaveLength(5);
      expect(rows[0]).toEqual(['delete_twin_identity', 'identity', `${twin.uuid}/${b}`, trace(deleted)]);
      expect(rows[1]).toEqual(['update_twin_identity', 'identity', `${twin.uuid}/${a}`, trace(updated)]);
      expect(rows.slice(2, 4)).toEqual(
        expect.arrayContaining(
          [a, b].map((n) => ['create_twin_identity', 'identity', `${twin.uuid}/${n}`, trace(created)]),
        ),
      );
      expect(rows[4]).toEqual(['create_twin', 'twin', twin.uuid, expect.any(String)]);
    });
  });
});
