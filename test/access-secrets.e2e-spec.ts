import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { expectErrorShape, type HttpResponse, type TestAccount, TestApi } from './support/test-app.js';

/** User secrets (API keys) and the PIN flow of docs/access.md, over real HTTP. */

function expectStatus(res: HttpResponse, status: number): void {
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${res.text}`);
}

/** A PIN of the right form guaranteed to differ from `pin`. */
const wrongPin = (pin: string) => (pin[0] === 'A' ? 'B' : 'A') + pin.slice(1);

describe('user secrets and the PIN flow', () => {
  let api: TestApi;
  let db: Client;
  let acme: TestAccount;
  let other: TestAccount;
  let readerRole: string;

  async function aUser(as: TestAccount = acme): Promise<string> {
    const res = await api.post('/users', { secret: as.secret, body: { name: 'reader', role: readerRole } });
    expectStatus(res, 201);
    return res.body.uuid;
  }

  async function aPin(user: string, as: TestAccount = acme): Promise<string> {
    const res = await api.post(`/users/${user}/secrets/pin`, { secret: as.secret });
    expectStatus(res, 201);
    return res.body.pin;
  }

  const exchange = (user: string, pin: string, account: string = acme.account) =>
    api.post('/secrets', { body: { account, user, pin } });

  async function aSecret(user: string): Promise<string> {
    const res = await exchange(user, await aPin(user));
    expectStatus(res, 201);
    return res.body.secret;
  }

  /** Every failed exchange must look the same: status, subcode and description. */
  async function expectRefused(res: HttpResponse): Promise<void> {
    expectErrorShape(res, 401, 'unauthorized');
    const reference = await api.post('/secrets', {
      // An unknown account: a wrong try for acme would count against acme's live PINs (docs/access.md).
      body: { account: randomUUID(), user: randomUUID(), pin: '000000' },
    });
    expect(res.body.description).toBe(reference.body.description);
  }

  beforeAll(async () => {
    api = await TestApi.start();
    db = new Client({ connectionString: api.config.DATABASE_URL });
    await db.connect();
    acme = await api.createAccount('acme');
    other = await api.createAccount('other');
    const role = await api.post('/roles', {
      secret: acme.secret,
      body: { name: 'Reader', statement: { effect: 'allow', actions: ['who_am_i', 'get_account'] } },
    });
    readerRole = role.body.uuid;
  });
  afterAll(async () => {
    await db.end();
    await api.stop();
  });

  describe('PIN flow', () => {
    it('issues a [A-Z0-9]{6} PIN valid for 10 minutes, exchanged once for a working secret', async () => {
      const user = await aUser();
      const before = Date.now() / 1000;
      const pin = await api.post(`/users/${user}/secrets/pin`, { secret: acme.secret });
      expect(pin.status).toBe(201);
      expect(Object.keys(pin.body).sort()).toEqual(['pin', 'validity_ts']);
      expect(pin.body.pin).toMatch(/^[A-Z0-9]{6}$/);
      expect(pin.body.validity_ts).toBeGreaterThanOrEqual(before + 600 - 1);
      expect(pin.body.validity_ts).toBeLessThanOrEqual(Date.now() / 1000 + 600 + 1);

      const issued = await exchange(user, pin.body.pin);
      expect(issued.status).toBe(201);
      expect(issued.body).toEqual({
        secret: expect.stringMatching(/^twx_[0-9A-Za-z]{49}$/),
        fingerprint: issued.body.secret.slice(0, 12),
        validity_ts: null,
      });
      const who = await api.get('/whoami', { secret: issued.body.secret });
      expect(who.body.user).toBe(user);
      expect(who.body.names.user).toBe('reader');
      expect(who.body.credential).toEqual({
        type: 'secret',
        fingerprint: issued.body.fingerprint,
        validity_ts: null,
      });
      // Only the hash is stored.
      const stored = await db.query('SELECT hash, fingerprint FROM secrets WHERE user_uuid = $1', [user]);
      expect(stored.rows).toHaveLength(1);
      expect(JSON.stringify(stored.rows)).not.toContain(issued.body.secret.slice(12));
      const pins = await db.query('SELECT * FROM secret_pins WHERE user_uuid = $1', [user]);
      expect(pins.rows).toHaveLength(0);
    });

    it('takes an empty body or {} on the PIN request, and refuses attributes', async () => {
      const user = await aUser();
      expect((await api.post(`/users/${user}/secrets/pin`, { secret: acme.secret, body: {} })).status).toBe(
        201,
      );
      expectErrorShape(
        await api.post(`/users/${user}/secrets/pin`, { secret: acme.secret, body: { length: 8 } }),
        400,
        'unknown_attribute',
      );
    });

    it('accepts a PIN once only', async () => {
      const user = await aUser();
      const pin = await aPin(user);
      expect((await exchange(user, pin)).status).toBe(201);
      await expectRefused(await exchange(user, pin));
    });

    it('replaces the previous PIN with a new one', async () => {
      const user = await aUser();
      const first = await aPin(user);
      const second = await aPin(user);
      if (first !== second) await expectRefused(await exchange(user, first));
      expect((await exchange(user, second)).status).toBe(201);
    });

    it('refuses a wrong PIN, an unknown user, the wrong account and a malformed id with the same 401', async () => {
      const user = await aUser();
      const pin = await aPin(user);
      await expectRefused(await exchange(user, wrongPin(pin)));
      await expectRefused(await exchange(randomUUID(), pin));
      await expectRefused(await exchange(user, pin, other.account));
      await expectRefused(await exchange('not-a-uuid', pin));
      await expectRefused(await exchange(user, pin, 'not-a-uuid'));
      await expectRefused(await exchange(user, ''));
      // Four wrong tries so far: the PIN still works.
      expect((await exchange(user, pin)).status).toBe(201);
    });

    it('burns the PIN on the fifth wrong try', async () => {
      const user = await aUser();
      const pin = await aPin(user);
      for (let i = 0; i < 5; i++) await expectRefused(await exchange(user, wrongPin(pin)));
      await expectRefused(await exchange(user, pin));
      // A fresh PIN starts over.
      expect((await exchange(user, await aPin(user))).status).toBe(201);
    });

    it('refuses an expired PIN', async () => {
      const user = await aUser();
      const pin = await aPin(user);
      await db.query('UPDATE secret_pins SET validity_ts = $2 WHERE user_uuid = $1', [
        user,
        Date.now() / 1000 - 1,
      ]);
      await expectRefused(await exchange(user, pin));
      expect((await db.query('SELECT 1 FROM secret_pins WHERE user_uuid = $1', [user])).rows).toHaveLength(0);
    });

    it('gives no secret to a disabled user', async () => {
      const user = await aUser();
      const pin = await aPin(user);
      await api.patch(`/users/${user}`, { secret: acme.secret, body: { status: 'disabled' } });
      await expectRefused(await exchange(user, pin));
    });

    it('is public: POST /secrets needs no secret and ignores a bad one', async () => {
      const user = await aUser();
      const pin = await aPin(user);
      const res = await api.post('/secrets', {
        secret: 'twx_garbage',
        body: { account: acme.account, user, pin },
      });
      expect(res.status).toBe(201);
    });

    it('does not issue PINs for users of another account', async () => {
      const user = await aUser();
      expectErrorShape(
        await api.post(`/users/${user}/secrets/pin`, { secret: other.secret }),
        404,
        'not_found',
      );
    });
  });

  describe('secrets', () => {
    it('lets a user hold several secrets, listed by fingerprint, each working', async () => {
      const user = await aUser();
      const a = await aSecret(user);
      const b = await aSecret(user);
      expect(a).not.toBe(b);
      const list = await api.get(`/users/${user}/secrets`, { secret: acme.secret });
      expect(list.status).toBe(200);
      expect(list.body.secrets.map((s: { fingerprint: string }) => s.fingerprint).sort()).toEqual(
        [a.slice(0, 12), b.slice(0, 12)].sort(),
      );
      for (const s of list.body.secrets) {
        expect(Object.keys(s).sort()).toEqual([
          'created_ts',
          'fingerprint',
          'last_used_ts',
          'updated_ts',
          'validity_ts',
        ]);
      }
      expect(list.text).not.toContain(a);
      expect(list.text).not.toContain(b);
      for (const secret of [a, b, `Bearer ${a}`])
        expect((await api.get('/whoami', { secret })).status).toBe(200);
    });

    it('expires a secret whose validity_ts is in the past (401), and an admin can extend it again', async () => {
      const user = await aUser();
      const secret = await aSecret(user);
      const path = `/users/${user}/secrets/${secret.slice(0, 12)}`;
      const future = Math.round(Date.now() / 1000) + 3600;
      const extended = await api.patch(path, { secret: acme.secret, body: { validity_ts: future } });
      expect(extended.status).toBe(200);
      expect(extended.body).toMatchObject({ fingerprint: secret.slice(0, 12), validity_ts: future });
      expect((await api.get('/whoami', { secret })).body.credential.validity_ts).toBe(future);

      const past = Date.now() / 1000 - 1;
      expect((await api.patch(path, { secret: acme.secret, body: { validity_ts: past } })).status).toBe(200);
      expectErrorShape(await api.get('/whoami', { secret }), 401, 'unauthorized');

      expect((await api.patch(path, { secret: acme.secret, body: { validity_ts: null } })).status).toBe(200);
      expect((await api.get('/whoami', { secret })).status).toBe(200);
    });

    it('revokes a deleted secret at once (401) and leaves the user’s other secrets working', async () => {
      const user = await aUser();
      const doomed = await aSecret(user);
      const kept = await aSecret(user);
      expect((await api.get('/whoami', { secret: doomed })).status).toBe(200);
      const path = `/users/${user}/secrets/${doomed.slice(0, 12)}`;
      const deleted = await api.delete(path, { secret: acme.secret });
      expect(deleted.status).toBe(200);
      expect(deleted.body.fingerprint).toBe(doomed.slice(0, 12));
      expectErrorShape(await api.get('/whoami', { secret: doomed }), 401, 'unauthorized');
      expect((await api.get('/whoami', { secret: kept })).status).toBe(200);
      expectErrorShape(await api.delete(path, { secret: acme.secret }), 404, 'not_found');
      const list = await api.get(`/users/${user}/secrets`, { secret: acme.secret });
      expect(list.body.secrets.map((s: { fingerprint: string }) => s.fingerprint)).toEqual([
        kept.slice(0, 12),
      ]);
    });

    it('lets an admin revoke its own secret', async () => {
      const account = await api.createAccount('self-revoking');
      const res = await api.delete(`/users/${account.user}/secrets/${account.secret.slice(0, 12)}`, {
        secret: account.secret,
      });
      expect(res.status).toBe(200);
      expectErrorShape(await api.get('/whoami', { secret: account.secret }), 401, 'unauthorized');
    });

    it.each([
      ['a string', { validity_ts: 'tomorrow' }, 'invalid_body'],
      ['a negative number', { validity_ts: -1 }, 'invalid_body'],
      ['no validity_ts', {}, 'invalid_body'],
      ['an extra attribute', { validity_ts: null, secret: 'x' }, 'unknown_attribute'],
    ])('refuses %s as secret update with 400', async (_label, body, subcode) => {
      const user = await aUser();
      const secret = await aSecret(user);
      const res = await api.patch(`/users/${user}/secrets/${secret.slice(0, 12)}`, {
        secret: acme.secret,
        body,
      });
      expectErrorShape(res, 400, subcode);
    });

    it('answers 404 for a fingerprint the user does not hold', async () => {
      const user = await aUser();
      const otherUser = await aUser();
      const secret = await aSecret(otherUser);
      expectErrorShape(
        await api.patch(`/users/${user}/secrets/${secret.slice(0, 12)}`, {
          secret: acme.secret,
          body: { validity_ts: 0 },
        }),
        404,
        'not_found',
      );
      expect((await api.get('/whoami', { secret })).status).toBe(200);
    });

    it.each(['', 'twx_', 'twx_abc', 'Bearer ', 'twx_' + 'A'.repeat(49), 'x'.repeat(5000)])(
      'refuses the malformed or unknown secret %j with 401',
      async (secret) => {
        const res = await api.get('/whoami', { headers: { authorization: secret } });
        expectErrorShape(res, 401, 'unauthorized');
      },
    );
  });
});
