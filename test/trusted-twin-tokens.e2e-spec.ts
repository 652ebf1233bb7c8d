import {
  aName,
  aTwin,
  attach,
  expectStatus,
  Fixtures,
  type Party,
  trustedTwinHeader,
} from './support/factories.js';
import { expectErrorShape, TestApi } from './support/test-app.js';

/** User tokens (docs/access.md): mint, use, refresh, options, expiry, revocation, DICT from secret_dict. */
describe('user tokens', () => {
  let api: TestApi;
  let fx: Fixtures;
  let alice: Party;
  let bob: Party;
  const json = { 'content-type': 'application/json' };

  const mint = (secret: string, body?: unknown) =>
    api.post('/token', body === undefined ? { secret, headers: json, raw: '' } : { secret, body });
  const as = (token: string): Party => ({ ...alice, secret: token });

  beforeAll(async () => {
    api = await TestApi.start();
    fx = await Fixtures.connect(api);
    alice = await fx.anAccount('alice');
    bob = await fx.anAccount('bob');
  });
  afterAll(async () => {
    await fx.close();
    await api.stop();
  });

  it('mints a signed token for the caller that acts as its user, valid an hour by default', async () => {
    const before = Date.now() / 1000;
    const res = await mint(alice.secret);
    expectStatus(res, 201);
    expect(Object.keys(res.body).sort()).toEqual(['options', 'token', 'validity_ts']);
    expect(res.body.options).toEqual([]);
    expect(res.body.token).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(res.body.validity_ts).toBeGreaterThanOrEqual(before + 3599);
    expect(res.body.validity_ts).toBeLessThanOrEqual(Date.now() / 1000 + 3601);
    const who = await api.get('/whoami', { secret: res.body.token });
    expectStatus(who, 200);
    expect(who.body).toMatchObject({ account: alice.account, user: alice.user, role: alice.role });
    expect(who.body.credential).toEqual({
      type: 'token',
      fingerprint: alice.secret.slice(0, 12),
      validity_ts: res.body.validity_ts,
    });
    const bearer = await api.get('/whoami', { headers: { authorization: `Bearer ${res.body.token}` } });
    expectStatus(bearer, 200);
  });

  it('caps validity at now + 24 h and at the minting secret’s expiry, and refuses a past one', async () => {
    const now = Date.now() / 1000;
    const capped = await mint(alice.secret, { validity_ts: now + 7 * 86400 });
    expectStatus(capped, 201);
    expect(capped.body.validity_ts).toBeLessThanOrEqual(Date.now() / 1000 + 86400 + 1);
    expectErrorShape(await mint(alice.secret, { validity_ts: now - 10 }), 400, 'invalid_validity');

    const user = await fx.aUser(alice);
    const secretEnd = Math.round(now) + 600;
    expectStatus(
      await api.patch(`/users/${user.user}/secrets/${user.secret.slice(0, 12)}`, {
        secret: alice.secret,
        body: { validity_ts: secretEnd },
      }),
      200,
    );
    const short = await mint(user.secret, { validity_ts: now + 3600 });
    expectStatus(short, 201);
    expect(short.body.validity_ts).toBe(secretEnd);
  });

  it('refuses an expired, tampered or foreign-signed token with 401', async () => {
    const res = await mint(alice.secret);
    const [h, p, s] = res.body.token.split('.');
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: bob.user, acc: bob.account })).toString(
      'base64url',
    );
    expectErrorShape(await api.get('/whoami', { secret: `${h}.${forged}.${s}` }), 401, 'unauthorized');
    expectErrorShape(
      await api.get('/whoami', { secret: `${h}.${p}.${s.slice(0, -2)}AA` }),
      401,
      'unauthorized',
    );
    const other = await TestApi.start(
      { ...api.config, TWINDEX_SECRET_KEY: 'another-secret-key-0123456789abcdef012345' },
      { migrate: false },
    );
    try {
      const foreign = await other.post('/token', { secret: alice.secret, headers: json, raw: '' });
      expectStatus(foreign, 201);
      expectErrorShape(await api.get('/whoami', { secret: foreign.body.token }), 401, 'unauthorized');
    } finally {
      await other.stop({ dropDatabase: false });
    }
  });

  it('enforces options: create to mint from a token, refresh to be refreshed', async () => {
    const plain = (await mint(alice.secret)).body.token as string;
    expectErrorShape(await mint(plain), 403, 'forbidden');
    expectErrorShape(
      await api.post('/token/refresh', { secret: plain, headers: json, raw: '' }),
      403,
      'forbidden',
    );
    expectErrorShape(
      await api.post('/token/refresh', { secret: alice.secret, headers: json, raw: '' }),
      403,
      'forbidden',
    );

    const both = await mint(alice.secret, { options: ['create', 'refresh'], secret_dict: { site: 'waw' } });
    expectStatus(both, 201);
    expect(both.body.options).toEqual(['create', 'refresh']);
    const child = await mint(both.body.token);
    expectStatus(child, 201);
    expect(child.body.validity_ts).toBeLessThanOrEqual(both.body.validity_ts);

    const refreshed = await api.post('/token/refresh', { secret: both.body.token, headers: json, raw: '' });
    expectStatus(refreshed, 201);
    expect(Object.keys(refreshed.body).sort()).toEqual(['token', 'validity_ts']);
    // Same options: the refreshed token can be refreshed and mint again.
    expectStatus(await api.post('/token/refresh', { secret: refreshed.body.token, body: {} }), 201);
    expectStatus(await mint(refreshed.body.token), 201);
  });

  it('never lets a token mint a child that holds an option it lacks or outlives it (the refresh chain)', async () => {
    // The attack: a short token with only `create` mints a child with `refresh`, then refreshes that child into a
    // long-lived one. A token without `refresh` must never lead to one that refreshes.
    const now = Date.now() / 1000;
    const createOnly = await mint(alice.secret, { options: ['create'], validity_ts: now + 120 });
    expectStatus(createOnly, 201);
    const parent = createOnly.body.token as string;
    expectErrorShape(await mint(parent, { options: ['refresh'] }), 403, 'forbidden');
    expectErrorShape(await mint(parent, { options: ['create', 'refresh'] }), 403, 'forbidden');

    // What it may mint: its own options or fewer, living no longer than itself.
    const child = await mint(parent, { options: ['create'], validity_ts: now + 7200 });
    expectStatus(child, 201);
    expect(child.body.options).toEqual(['create']);
    expect(child.body.validity_ts).toBeLessThanOrEqual(createOnly.body.validity_ts);
    const grandchild = await mint(child.body.token, {});
    expectStatus(grandchild, 201);
    expect(grandchild.body.validity_ts).toBeLessThanOrEqual(createOnly.body.validity_ts);
    // No descendant can be refreshed.
    for (const t of [parent, child.body.token, grandchild.body.token])
      expectErrorShape(await api.post('/token/refresh', { secret: t, body: {} }), 403, 'forbidden');
  });

  it('refuses bad bodies with 400', async () => {
    expectErrorShape(await mint(alice.secret, { options: ['delete'] }), 400);
    expectErrorShape(await mint(alice.secret, { secret_dict: { Site: 1 } }), 400);
    expectErrorShape(await mint(alice.secret, { secret_dict: { k: 'x'.repeat(5000) } }), 400);
    expectErrorShape(await mint(alice.secret, { lifetime: 1 }), 400, 'unknown_attribute');
  });

  it('ends with its user: disabling or deleting the user, or revoking the minting secret, is a 401', async () => {
    const disabled = await fx.aUser(alice);
    const t1 = (await mint(disabled.secret)).body.token as string;
    expectStatus(await api.get('/whoami', { secret: t1 }), 200);
    expectStatus(
      await api.patch(`/users/${disabled.user}`, { secret: alice.secret, body: { status: 'disabled' } }),
      200,
    );
    expectErrorShape(await api.get('/whoami', { secret: t1 }), 401, 'unauthorized');

    const deleted = await fx.aUser(alice);
    const t2 = (await mint(deleted.secret)).body.token as string;
    expectStatus(await api.get('/whoami', { secret: t2 }), 200);
    expectStatus(
      await api.delete(`/users/${deleted.user}`, { secret: alice.secret, headers: json, raw: '' }),
      200,
    );
    expectErrorShape(await api.get('/whoami', { secret: t2 }), 401, 'unauthorized');

    const revoked = await fx.aUser(alice);
    const t3 = (await mint(revoked.secret)).body.token as string;
    expectStatus(await api.get('/whoami', { secret: t3 }), 200);
    expectStatus(
      await api.delete(`/users/${revoked.user}/secrets/${revoked.secret.slice(0, 12)}`, {
        secret: alice.secret,
        headers: json,
        raw: '',
      }),
      200,
    );
    expectErrorShape(await api.get('/whoami', { secret: t3 }), 401, 'unauthorized');
  });

  it('acts with the user’s current role', async () => {
    const user = await fx.aUser(alice, { effect: 'allow', actions: ['who_am_i', 'create_user_token'] });
    const token = (await mint(user.secret)).body.token as string;
    expectErrorShape(await api.get('/twins', { secret: token }), 403, 'forbidden');
    expectStatus(
      await api.patch(`/roles/${user.role}`, {
        secret: alice.secret,
        body: { statement: { effect: 'allow', actions: ['who_am_i', 'scan_twins'] } },
      }),
      200,
    );
    expectStatus(await api.get('/twins', { secret: token }), 200);
  });

  it('shows secret_dict to rules as DICT, merged over X-TrustedTwin with the signed values winning', async () => {
    const twin = await aTwin(api, bob);
    const name = aName();
    await attach(api, bob, twin.uuid, { [name]: { visibility: 'DICT.site == "WAW" and DICT.gate == 7' } });
    const token = (await mint(alice.secret, { secret_dict: { site: 'WAW' } })).body.token as string;
    const look = (secret: string, headers: Record<string, string>) =>
      api.get(`/resolve/${encodeURIComponent(name)}`, { secret, headers, query: { context: 'system' } });

    // The header alone: the caller chooses DICT.
    expect((await look(alice.secret, trustedTwinHeader({ site: 'WAW', gate: 7 }))).body.twins).toEqual([
      twin.uuid,
    ]);
    // The token's signed site wins over the header's; the header still adds gate.
    expect((await look(token, trustedTwinHeader({ site: 'KRK', gate: 7 }))).body.twins).toEqual([twin.uuid]);
    expect((await look(token, trustedTwinHeader({ gate: 7 }))).body.twins).toEqual([twin.uuid]);
    expect((await look(token, {})).body.twins).toEqual([]);
    const krk = (await mint(alice.secret, { secret_dict: { site: 'KRK' } })).body.token as string;
    expect((await look(krk, trustedTwinHeader({ site: 'WAW', gate: 7 }))).body.twins).toEqual([]);
    expect(as(krk).account).toBe(alice.account);
  });
});
