import { Client } from 'pg';
import { expectStatus } from './support/factories.js';
import { expectErrorShape, type HttpResponse, type TestAccount, TestApi } from './support/test-app.js';

/** The PIN flow and the collection secret paths on Trusted Twin's paths (docs/access.md), over real HTTP. */
describe('secrets on Trusted Twin paths', () => {
  let api: TestApi;
  let db: Client;
  let acme: TestAccount;
  let other: TestAccount;
  let readerRole: string;
  const json = { 'content-type': 'application/json' };

  async function aUser(as: TestAccount = acme): Promise<string> {
    const res = await api.post('/users', { secret: as.secret, body: { name: 'reader', role: readerRole } });
    expectStatus(res, 201);
    return res.body.uuid;
  }

  /** As the official client sends it: JSON content type, no body. */
  async function aPin(user: string, as: TestAccount = acme, body?: unknown): Promise<string> {
    const res = await api.post(
      `/users/${user}/secrets`,
      body === undefined ? { secret: as.secret, headers: json, raw: '' } : { secret: as.secret, body },
    );
    expectStatus(res, 201);
    return res.body.pin;
  }

  const redeem = (pin: string, account: string = acme.account) =>
    api.post(`/secrets/${account}/${encodeURIComponent(pin)}`, { headers: json, raw: '' });

  async function aSecret(user: string): Promise<string> {
    const res = await redeem(await aPin(user));
    expectStatus(res, 201);
    return res.body.secret;
  }

  /** Every failed redemption looks the same: status, subcode and description. */
  let refusal: string;
  function expectRefused(res: HttpResponse): void {
    expectErrorShape(res, 401, 'unauthorized');
    expect(res.body.description).toBe(refusal);
  }

  /** A PIN of the right form guaranteed to differ from `pin`. */
  const wrongPin = (pin: string) => (pin[0] === 'A' ? 'B' : 'A') + pin.slice(1);

  beforeAll(async () => {
    api = await TestApi.start();
    db = new Client({ connectionString: api.config.DATABASE_URL });
    await db.connect();
    acme = await api.createAccount('acme');
    other = await api.createAccount('other');
    const role = await api.post('/roles', {
      secret: acme.secret,
      body: { name: 'Reader', statement: { effect: 'allow', actions: ['who_am_i'] } },
    });
    expectStatus(role, 201);
    readerRole = role.body.uuid;
    refusal = (await api.post(`/secrets/${other.account}/ZZZZZZ`)).body.description;
  });
  afterAll(async () => {
    await db.end();
    await api.stop();
  });

  describe('PIN flow', () => {
    it('creates a [A-Z0-9]{6} PIN that names its user and redeems it once for a secret', async () => {
      const user = await aUser();
      const before = Date.now() / 1000;
      const pinRes = await api.post(`/users/${user}/secrets`, {
        secret: acme.secret,
        headers: json,
        raw: '',
      });
      expectStatus(pinRes, 201);
      expect(Object.keys(pinRes.body).sort()).toEqual(['pin', 'pin_validity_ts']);
      expect(pinRes.body.pin).toMatch(/^[A-Z0-9]{6}$/);
      expect(pinRes.body.pin_validity_ts).toBeGreaterThanOrEqual(before + 599);
      expect(pinRes.body.pin_validity_ts).toBeLessThanOrEqual(Date.now() / 1000 + 601);
      const stored = await db.query('SELECT pin_hash FROM secret_pins WHERE user_uuid = $1', [user]);
      expect(JSON.stringify(stored.rows)).not.toContain(pinRes.body.pin);

      const issued = await redeem(pinRes.body.pin);
      expectStatus(issued, 201);
      expect(issued.body).toEqual({
        account: acme.account,
        user,
        secret: expect.stringMatching(/^twx_[0-9A-Za-z]{49}$/),
        fingerprint: issued.body.secret.slice(0, 12),
        validity_ts: null,
        created_ts: expect.any(Number),
        updated_ts: issued.body.created_ts,
      });
      expect((await api.get('/whoami', { secret: issued.body.secret })).body.user).toBe(user);
      expectRefused(await redeem(pinRes.body.pin));
    });

    it('gives the secret the validity_ts given with the PIN', async () => {
      const user = await aUser();
      const validity = Math.round(Date.now() / 1000) + 7200;
      const res = await redeem(await aPin(user, acme, { validity_ts: validity }));
      expectStatus(res, 201);
      expect(res.body.validity_ts).toBe(validity);
      expect((await api.get('/whoami', { secret: res.body.secret })).body.credential.validity_ts).toBe(
        validity,
      );
    });

    it('refuses a wrong PIN, an unknown or malformed account, a malformed PIN and another account’s PIN with the same 401', async () => {
      const user = await aUser();
      const pin = await aPin(user);
      expectRefused(await redeem(wrongPin(pin)));
      expectRefused(await redeem(pin, other.account));
      expectRefused(await redeem(pin, '3b1d6c4e-8f2a-4c1b-9d3e-5a6b7c8d9e0f'));
      expectRefused(await redeem(pin, 'not-an-account'));
      expectRefused(await redeem('abc'));
      // Two wrong tries for acme so far: the PIN still works.
      expectStatus(await redeem(pin), 201);
    });

    it('burns every live PIN of an account after 5 wrong tries for it', async () => {
      const user = await aUser();
      const pin = await aPin(user);
      for (let i = 0; i < 5; i++) expectRefused(await redeem(wrongPin(pin)));
      expectRefused(await redeem(pin));
      // A fresh PIN starts over.
      expectStatus(await redeem(await aPin(user)), 201);
    });

    it('refuses an expired PIN', async () => {
      const user = await aUser();
      const pin = await aPin(user);
      await db.query('UPDATE secret_pins SET validity_ts = $2 WHERE user_uuid = $1', [
        user,
        Date.now() / 1000 - 1,
      ]);
      expectRefused(await redeem(pin));
    });

    it('replaces a user’s previous PIN', async () => {
      const user = await aUser();
      const first = await aPin(user);
      const second = await aPin(user);
      if (first !== second) expectRefused(await redeem(first));
      expectStatus(await redeem(second), 201);
    });

    it('does not create PINs for another account’s users, and refuses unknown body attributes', async () => {
      const user = await aUser();
      expectErrorShape(
        await api.post(`/users/${user}/secrets`, { secret: other.secret, headers: json, raw: '' }),
        404,
        'not_found',
      );
      expectErrorShape(
        await api.post(`/users/${user}/secrets`, { secret: acme.secret, body: { pin: 'X' } }),
        400,
        'unknown_attribute',
      );
    });
  });

  describe('collection paths (Trusted Twin’s one secret)', () => {
    it('shows the newest of several secrets with all of them listed, updates all, and revokes all', async () => {
      const user = await aUser();
      const a = await aSecret(user);
      const b = await aSecret(user);
      const c = await aSecret(user);
      const got = await api.get(`/users/${user}/secrets`, { secret: acme.secret, headers: json });
      expectStatus(got, 200);
      expect(got.body).toMatchObject({
        account: acme.account,
        user,
        fingerprint: c.slice(0, 12),
        validity_ts: null,
      });
      expect(typeof got.body.created_ts).toBe('number');
      expect(typeof got.body.updated_ts).toBe('number');
      expect(got.body.secrets.map((s: { fingerprint: string }) => s.fingerprint)).toEqual(
        [c, b, a].map((s) => s.slice(0, 12)),
      );
      for (const s of [a, b, c]) expect(got.text).not.toContain(s);

      const validity = Math.round(Date.now() / 1000) + 3600;
      const patched = await api.patch(`/users/${user}/secrets`, {
        secret: acme.secret,
        body: { validity_ts: validity },
      });
      expectStatus(patched, 200);
      expect(patched.body.secrets.map((s: { validity_ts: number }) => s.validity_ts)).toEqual([
        validity,
        validity,
        validity,
      ]);
      for (const s of [a, b, c])
        expect((await api.get('/whoami', { secret: s })).body.credential.validity_ts).toBe(validity);

      // One secret still rotates on its own path.
      expectStatus(
        await api.delete(`/users/${user}/secrets/${a.slice(0, 12)}`, {
          secret: acme.secret,
          headers: json,
          raw: '',
        }),
        200,
      );
      expectErrorShape(await api.get('/whoami', { secret: a }), 401, 'unauthorized');

      const deleted = await api.delete(`/users/${user}/secrets`, {
        secret: acme.secret,
        headers: json,
        raw: '',
      });
      expectStatus(deleted, 200);
      expect(deleted.body.secrets).toHaveLength(2);
      for (const s of [b, c]) expectErrorShape(await api.get('/whoami', { secret: s }), 401, 'unauthorized');
      expectErrorShape(await api.get(`/users/${user}/secrets`, { secret: acme.secret }), 404, 'not_found');
      expectErrorShape(
        await api.delete(`/users/${user}/secrets`, { secret: acme.secret, headers: json, raw: '' }),
        404,
        'not_found',
      );
      expectErrorShape(
        await api.patch(`/users/${user}/secrets`, { secret: acme.secret, body: { validity_ts: null } }),
        404,
        'not_found',
      );
    });

    it('needs a body for PATCH (missing_body) and hides other accounts’ users (404)', async () => {
      const user = await aUser();
      await aSecret(user);
      expectErrorShape(
        await api.patch(`/users/${user}/secrets`, { secret: acme.secret, headers: json, raw: '' }),
        400,
        'missing_body',
      );
      expectErrorShape(await api.get(`/users/${user}/secrets`, { secret: other.secret }), 404, 'not_found');
    });
  });
});
