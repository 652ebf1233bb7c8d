import { randomUUID } from 'node:crypto';
import { ACTIONS } from '../libs/domain/access/action-catalogue.js';
import { BUILT_IN_ROLES } from '../libs/domain/access/built-in-roles.js';
import { expectErrorShape, type HttpResponse, type TestAccount, TestApi } from './support/test-app.js';
import { OPERATOR_KEY } from './support/test-env.js';

/** Accounts, the account, whoami, roles and users over real HTTP; secrets and permissions have their own suites. */

const operator = { authorization: `Bearer ${OPERATOR_KEY}` };

function expectStatus(res: HttpResponse, status: number): void {
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${res.text}`);
}

describe('access control', () => {
  let api: TestApi;
  let acme: TestAccount;
  let other: TestAccount;

  /** A role made by the admin over HTTP. */
  async function aRole(body: Record<string, unknown>, as: TestAccount = acme): Promise<{ uuid: string }> {
    const res = await api.post('/roles', { secret: as.secret, body: { name: 'Custom', ...body } });
    expectStatus(res, 201);
    return res.body;
  }

  /** A user holding `role`, with a secret obtained through the PIN flow (as a real user would). */
  async function aUser(role: string, as: TestAccount = acme, name = 'worker'): Promise<TestAccount> {
    const user = await api.post('/users', { secret: as.secret, body: { name, role } });
    expectStatus(user, 201);
    const pin = await api.post(`/users/${user.body.uuid}/secrets/pin`, { secret: as.secret });
    expectStatus(pin, 201);
    const secret = await api.post('/secrets', {
      body: { account: as.account, user: user.body.uuid, pin: pin.body.pin },
    });
    expectStatus(secret, 201);
    return { account: as.account, user: user.body.uuid, role, secret: secret.body.secret };
  }

  const aUserWithStatement = async (statement: Record<string, unknown>) =>
    aUser((await aRole({ statement })).uuid);

  beforeAll(async () => {
    api = await TestApi.start();
    acme = await api.createAccount('acme');
    other = await api.createAccount('other');
  });
  afterAll(async () => {
    await api.stop();
  });

  describe('accounts (operator)', () => {
    it('creates an account with its built-in roles, an admin user and a first secret shown once', async () => {
      const res = await api.post('/accounts', { headers: operator, body: { name: 'Gate Co' } });
      expect(res.status).toBe(201);
      expect(Object.keys(res.body).sort()).toEqual(['account', 'role', 'secret', 'user']);
      expect(res.body.account).toEqual({
        uuid: expect.stringMatching(/^[0-9a-f-]{36}$/),
        name: 'Gate Co',
        resource_access_log: {},
        created_ts: expect.any(Number),
        updated_ts: expect.any(Number),
      });
      expect(res.body.user).toMatchObject({ name: 'admin', role: res.body.role.uuid, status: 'active' });
      expect(res.body.role).toMatchObject({
        name: 'Admin',
        is_immutable: true,
        statement: { effect: 'deny', actions: [] },
      });
      expect(res.body.secret).toMatch(/^twx_[0-9A-Za-z]{49}$/);

      const roles = await api.get('/roles', { secret: res.body.secret });
      expect(roles.status).toBe(200);
      expect(Object.values(roles.body.roles).map((r: any) => r.name)).toEqual([
        'Admin',
        'Operator',
        'ReadOnly',
      ]);
      for (const builtIn of BUILT_IN_ROLES) {
        const role = Object.values<any>(roles.body.roles).find((r) => r.name === builtIn.name);
        expect(role).toMatchObject({
          is_immutable: true,
          statement: { effect: builtIn.statement.effect, actions: [...builtIn.statement.actions] },
          rules: { twin_rule: null, entry_rule: null, identity_rule: null },
        });
        expect(roles.body.roles[role.uuid]).toBe(role);
      }
    });

    it('accepts the operator key bare as well as Bearer', async () => {
      const res = await api.post('/accounts', {
        headers: { authorization: OPERATOR_KEY },
        body: { name: 'bare' },
      });
      expect(res.status).toBe(201);
    });

    it.each([
      ['no key', {}],
      ['a wrong key', { authorization: `Bearer ${OPERATOR_KEY}x` }],
      ['a prefix of the key', { authorization: OPERATOR_KEY.slice(0, 20) }],
    ])('refuses %s with 401', async (_label, headers) => {
      expectErrorShape(await api.post('/accounts', { headers, body: { name: 'x' } }), 401, 'unauthorized');
    });

    it('refuses a user secret, even an admin one, as the operator key', async () => {
      expectErrorShape(
        await api.post('/accounts', { secret: acme.secret, body: { name: 'x' } }),
        401,
        'unauthorized',
      );
    });

    it('mirrors a given uuid (normalised to lowercase) and refuses it a second time with 400 already_exists', async () => {
      const uuid = randomUUID();
      const first = await api.post('/accounts', {
        headers: operator,
        body: { name: 'mirror', uuid: uuid.toUpperCase() },
      });
      expect(first.status).toBe(201);
      expect(first.body.account.uuid).toBe(uuid);
      const again = await api.post('/accounts', { headers: operator, body: { name: 'mirror', uuid } });
      expectErrorShape(again, 400, 'already_exists');
    });

    it.each([
      ['a malformed uuid', { name: 'x', uuid: 'nope' }, 'invalid_uuid'],
      ['a blank name', { name: '  ' }, 'invalid_name'],
      ['a missing name', {}, 'invalid_body'],
      ['an unknown attribute', { name: 'x', plan: 'gold' }, 'unknown_attribute'],
    ])('refuses %s with 400', async (_label, body, subcode) => {
      expectErrorShape(await api.post('/accounts', { headers: operator, body }), 400, subcode);
    });
  });

  describe('the account and whoami', () => {
    it('shows the caller its account and lets the admin rename it', async () => {
      const account = await api.post('/accounts', { headers: operator, body: { name: 'before' } });
      const secret = account.body.secret;
      const got = await api.get('/account', { secret });
      expect(got.status).toBe(200);
      expect(got.body).toEqual(account.body.account);

      const renamed = await api.patch('/account', { secret, body: { name: 'after' } });
      expect(renamed.status).toBe(200);
      expect(renamed.body).toMatchObject({
        uuid: got.body.uuid,
        name: 'after',
        created_ts: got.body.created_ts,
      });
      expect(renamed.body.updated_ts).toBeGreaterThanOrEqual(got.body.updated_ts);
      // Read-your-writes: the cached principal is evicted before the answer.
      expect((await api.get('/whoami', { secret })).body.names.account).toBe('after');
    });

    it('describes the caller in whoami, with every action for the admin, sorted', async () => {
      const res = await api.get('/whoami', { secret: acme.secret });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        account: acme.account,
        user: acme.user,
        role: acme.role,
        names: { account: 'acme', user: 'admin', role: 'Admin' },
        credential: { type: 'secret', fingerprint: acme.secret.slice(0, 12), validity_ts: null },
        actions: [...ACTIONS].sort(),
      });
    });

    it('lists exactly the allowed actions of a narrow role', async () => {
      const reader = await aUserWithStatement({ effect: 'allow', actions: ['who_am_i', 'get_users'] });
      expect((await api.get('/whoami', { secret: reader.secret })).body.actions).toEqual([
        'get_users',
        'who_am_i',
      ]);
    });
  });

  describe('roles', () => {
    it('creates, reads, lists, updates and deletes a role', async () => {
      const created = await api.post('/roles', {
        secret: acme.secret,
        body: {
          name: 'Gate reader',
          statement: { effect: 'allow', actions: ['resolve_twin_identity', 'get_twin_identities'] },
          rules: { twin_rule: 'TWIN.kind == "pallet"' },
        },
      });
      expect(created.status).toBe(201);
      expect(created.body).toEqual({
        uuid: expect.stringMatching(/^[0-9a-f-]{36}$/),
        account: acme.account,
        name: 'Gate reader',
        statement: { effect: 'allow', actions: ['resolve_twin_identity', 'get_twin_identities'] },
        rules: { twin_rule: 'TWIN.kind == "pallet"', entry_rule: null, identity_rule: null },
        is_immutable: false,
        created_ts: expect.any(Number),
        updated_ts: created.body.created_ts,
      });
      const uuid = created.body.uuid;
      expect((await api.get(`/roles/${uuid}`, { secret: acme.secret })).body).toEqual(created.body);
      const list = await api.get('/roles', { secret: acme.secret });
      expect(list.body.roles[uuid]).toEqual(created.body);

      // Attributes given replace, the others stay; inside rules, each rule given replaces that rule only.
      const updated = await api.patch(`/roles/${uuid}`, {
        secret: acme.secret,
        body: { name: 'Gate-reader 2', rules: { identity_rule: 'true' } },
      });
      expect(updated.status).toBe(200);
      expect(updated.body).toMatchObject({
        name: 'Gate-reader 2',
        statement: created.body.statement,
        rules: { twin_rule: 'TWIN.kind == "pallet"', identity_rule: 'true' },
      });
      const cleared = await api.patch(`/roles/${uuid}`, {
        secret: acme.secret,
        body: { statement: { effect: 'deny', actions: null }, rules: { twin_rule: null } },
      });
      expect(cleared.body).toMatchObject({
        statement: { effect: 'deny', actions: null },
        rules: { twin_rule: null, identity_rule: 'true' },
      });

      const deleted = await api.delete(`/roles/${uuid}`, { secret: acme.secret });
      expect(deleted.status).toBe(200);
      expect(deleted.body.uuid).toBe(uuid);
      expectErrorShape(await api.get(`/roles/${uuid}`, { secret: acme.secret }), 404, 'not_found');
      expectErrorShape(await api.delete(`/roles/${uuid}`, { secret: acme.secret }), 404, 'not_found');
    });

    it('gives a role created without a statement every action (deny nothing), as Trusted Twin does', async () => {
      const role = await aRole({});
      expect((await api.get(`/roles/${role.uuid}`, { secret: acme.secret })).body.statement).toEqual({
        effect: 'deny',
        actions: null,
      });
      const user = await aUser(role.uuid);
      expect((await api.get('/whoami', { secret: user.secret })).body.actions).toEqual([...ACTIONS].sort());
    });

    it('denies exactly the listed actions with effect deny: no GET /users, everything else allowed', async () => {
      const user = await aUserWithStatement({ effect: 'deny', actions: ['get_users'] });
      const denied = await api.get('/users', { secret: user.secret });
      expectErrorShape(denied, 403, 'forbidden');
      expect(denied.body.description).toContain('get_users');
      for (const path of ['/roles', '/account', '/whoami', '/permissions', `/users/${user.user}`]) {
        expect({ path, status: (await api.get(path, { secret: user.secret })).status }).toEqual({
          path,
          status: 200,
        });
      }
      const who = await api.get('/whoami', { secret: user.secret });
      expect(who.body.actions).toEqual(ACTIONS.filter((a) => a !== 'get_users').sort());
    });

    it('allows exactly the listed actions with effect allow', async () => {
      const user = await aUserWithStatement({ effect: 'allow', actions: ['get_users'] });
      expect((await api.get('/users', { secret: user.secret })).status).toBe(200);
      const roles = await api.get('/roles', { secret: user.secret });
      expectErrorShape(roles, 403, 'forbidden');
      expect(roles.body.description).toContain('get_user_roles');
      expectErrorShape(await api.get('/whoami', { secret: user.secret }), 403, 'forbidden');
    });

    it('applies a changed statement to the holders at once', async () => {
      const role = await aRole({ statement: { effect: 'allow', actions: ['get_users', 'who_am_i'] } });
      const user = await aUser(role.uuid);
      expect((await api.get('/users', { secret: user.secret })).status).toBe(200);
      await api.patch(`/roles/${role.uuid}`, {
        secret: acme.secret,
        body: { statement: { effect: 'allow', actions: ['who_am_i'] } },
      });
      expectErrorShape(await api.get('/users', { secret: user.secret }), 403, 'forbidden');
    });

    it('refuses an action outside the catalogue with 400 invalid_action naming it, on create and update', async () => {
      const res = await api.post('/roles', {
        secret: acme.secret,
        body: { name: 'Typo', statement: { effect: 'allow', actions: ['get_users', 'get_usrs'] } },
      });
      expectErrorShape(res, 400, 'invalid_action');
      expect(res.body.description).toContain('get_usrs');
      expectErrorShape(
        await api.post('/roles', {
          secret: acme.secret,
          body: { name: 'Public', statement: { effect: 'allow', actions: ['create_user_secret'] } },
        }),
        400,
        'invalid_action',
      );
      const role = await aRole({ statement: { effect: 'allow', actions: ['get_users'] } });
      const patch = await api.patch(`/roles/${role.uuid}`, {
        secret: acme.secret,
        body: { statement: { effect: 'deny', actions: ['drop_tables'] } },
      });
      expectErrorShape(patch, 400, 'invalid_action');
    });

    it.each([
      ['a leading space', ' Reader'],
      ['a trailing hyphen', 'Reader-'],
      ['33 characters', `R${'e'.repeat(31)}r`],
      ['one character', 'R'],
      ['a dot', 'Read.er'],
    ])('refuses a role name with %s (400 invalid_name)', async (_label, name) => {
      expectErrorShape(
        await api.post('/roles', { secret: acme.secret, body: { name } }),
        400,
        'invalid_name',
      );
    });

    it('refuses a rule that does not compile with 400 invalid_rule and its position', async () => {
      const res = await api.post('/roles', {
        secret: acme.secret,
        body: { name: 'Broken', rules: { twin_rule: 'TWIN.kind == ' } },
      });
      expectErrorShape(res, 400, 'invalid_rule');
      expect(res.body.description).toMatch(/twin_rule.*position \d+/);
      const role = await aRole({});
      const patch = await api.patch(`/roles/${role.uuid}`, {
        secret: acme.secret,
        body: { rules: { identity_rule: 'unknown_variable == 1' } },
      });
      expectErrorShape(patch, 400, 'invalid_rule');
      expect(patch.body.description).toContain('identity_rule');
    });

    it('keeps built-in roles immutable (400 immutable on update and delete)', async () => {
      const roles = Object.values<{ uuid: string; name: string }>(
        (await api.get('/roles', { secret: acme.secret })).body.roles,
      );
      for (const builtIn of roles.filter((r) => ['Admin', 'Operator', 'ReadOnly'].includes(r.name))) {
        expectErrorShape(
          await api.patch(`/roles/${builtIn.uuid}`, { secret: acme.secret, body: { name: 'Mine now' } }),
          400,
          'immutable',
        );
        expectErrorShape(
          await api.delete(`/roles/${builtIn.uuid}`, { secret: acme.secret }),
          400,
          'immutable',
        );
      }
      expect((await api.get(`/roles/${acme.role}`, { secret: acme.secret })).body.name).toBe('Admin');
    });

    it('refuses to delete a role that a user holds (400 in_use) until nobody does', async () => {
      const role = await aRole({ statement: { effect: 'allow', actions: ['who_am_i'] } });
      const user = await aUser(role.uuid);
      expectErrorShape(await api.delete(`/roles/${role.uuid}`, { secret: acme.secret }), 400, 'in_use');
      const readOnly = Object.values<any>((await api.get('/roles', { secret: acme.secret })).body.roles).find(
        (r) => r.name === 'ReadOnly',
      );
      await api.patch(`/users/${user.user}`, { secret: acme.secret, body: { role: readOnly.uuid } });
      expect((await api.delete(`/roles/${role.uuid}`, { secret: acme.secret })).status).toBe(200);
    });
  });

  describe('users', () => {
    it('creates, reads, lists, updates and deletes a user', async () => {
      const role = await aRole({ statement: { effect: 'allow', actions: ['who_am_i'] } });
      const created = await api.post('/users', {
        secret: acme.secret,
        body: { name: 'Gate 7', role: role.uuid, description: { site: 'WAW-1', gates: [7] } },
      });
      expect(created.status).toBe(201);
      expect(created.body).toEqual({
        uuid: expect.stringMatching(/^[0-9a-f-]{36}$/),
        account: acme.account,
        name: 'Gate 7',
        role: role.uuid,
        description: { site: 'WAW-1', gates: [7] },
        activity: null,
        status: 'active',
        created_ts: expect.any(Number),
        updated_ts: created.body.created_ts,
      });
      const uuid = created.body.uuid;
      expect((await api.get(`/users/${uuid}`, { secret: acme.secret })).body).toEqual(created.body);
      const list = await api.get('/users', { secret: acme.secret });
      expect(Object.keys(list.body.users)).toEqual(expect.arrayContaining([acme.user, uuid]));
      expect(list.body.users[uuid]).toEqual(created.body);

      const updated = await api.patch(`/users/${uuid}`, {
        secret: acme.secret,
        body: { description: { site: 'KRK-2' }, status: 'disabled' },
      });
      expect(updated.status).toBe(200);
      expect(updated.body).toMatchObject({
        name: 'Gate 7',
        role: role.uuid,
        description: { site: 'KRK-2' },
        status: 'disabled',
      });

      expect((await api.delete(`/users/${uuid}`, { secret: acme.secret })).body.uuid).toBe(uuid);
      expectErrorShape(await api.get(`/users/${uuid}`, { secret: acme.secret }), 404, 'not_found');
    });

    it('refuses a role that is not one of the account’s roles with 400 invalid_role', async () => {
      for (const role of [other.role, randomUUID(), 'Admin']) {
        expectErrorShape(
          await api.post('/users', { secret: acme.secret, body: { name: 'x', role } }),
          400,
          'invalid_role',
        );
        expectErrorShape(
          await api.patch(`/users/${acme.user}`, { secret: acme.secret, body: { role } }),
          400,
          'invalid_role',
        );
      }
    });

    it.each([
      ['an array', [1]],
      ['a string', 'x'],
      ['null', null],
      ['an upper-case key', { Site: 1 }],
      ['a hyphenated key', { 'serial-no': 1 }],
    ])('refuses %s as description with 400 invalid_description', async (_label, description) => {
      expectErrorShape(
        await api.post('/users', { secret: acme.secret, body: { name: 'x', role: acme.role, description } }),
        400,
        'invalid_description',
      );
    });

    it.each([
      ['an unknown status', { status: 'paused' }, 'invalid_body'],
      ['an empty name', { name: '' }, 'invalid_name'],
      ['a 101-character name', { name: 'n'.repeat(101) }, 'invalid_name'],
    ])('refuses %s with 400', async (_label, attributes, subcode) => {
      expectErrorShape(
        await api.post('/users', {
          secret: acme.secret,
          body: { name: 'x', role: acme.role, ...attributes },
        }),
        400,
        subcode,
      );
    });

    it('shuts a disabled user out at once (401) and lets it back in when enabled', async () => {
      const user = await aUserWithStatement({ effect: 'allow', actions: ['who_am_i'] });
      expect((await api.get('/whoami', { secret: user.secret })).status).toBe(200);
      await api.patch(`/users/${user.user}`, { secret: acme.secret, body: { status: 'disabled' } });
      expectErrorShape(await api.get('/whoami', { secret: user.secret }), 401, 'unauthorized');
      await api.patch(`/users/${user.user}`, { secret: acme.secret, body: { status: 'active' } });
      expect((await api.get('/whoami', { secret: user.secret })).status).toBe(200);
    });

    it('shuts a deleted user out at once (401), secrets and all', async () => {
      const user = await aUserWithStatement({ effect: 'allow', actions: ['who_am_i'] });
      expect((await api.get('/whoami', { secret: user.secret })).status).toBe(200);
      expect((await api.delete(`/users/${user.user}`, { secret: acme.secret })).status).toBe(200);
      expectErrorShape(await api.get('/whoami', { secret: user.secret }), 401, 'unauthorized');
      expectErrorShape(
        await api.get(`/users/${user.user}/secrets`, { secret: acme.secret }),
        404,
        'not_found',
      );
    });

    it('lets an admin delete itself, after which its secret is refused', async () => {
      const admin = await aUser(acme.role, acme, 'second admin');
      expect((await api.delete(`/users/${admin.user}`, { secret: admin.secret })).status).toBe(200);
      expectErrorShape(await api.get('/whoami', { secret: admin.secret }), 401, 'unauthorized');
    });

    it('gives a user a new role at once', async () => {
      const user = await aUserWithStatement({ effect: 'allow', actions: ['who_am_i'] });
      expectErrorShape(await api.get('/users', { secret: user.secret }), 403, 'forbidden');
      await api.patch(`/users/${user.user}`, { secret: acme.secret, body: { role: acme.role } });
      expect((await api.get('/users', { secret: user.secret })).status).toBe(200);
    });
  });

  describe("another account's objects", () => {
    it('answer 404 exactly like objects that do not exist', async () => {
      const role = await aRole({ statement: { effect: 'allow', actions: ['who_am_i'] } });
      const user = await aUser(role.uuid);
      const fingerprint = user.secret.slice(0, 12);
      const permission = await api.post('/permissions', {
        secret: acme.secret,
        body: { name: 'Resolver', operations: ['resolve_twin_identity'] },
      });
      const assignment = await api.post(`/permissions/${permission.body.id}/assignments`, {
        secret: acme.secret,
        body: { identityId: user.user },
      });
      expectStatus(assignment, 201);
      const missing = randomUUID();
      const missingPermission = 'pm-aaaaa-bbbbb-cccccccccccccc';
      const cases: Array<[string, string, string, unknown?]> = [
        ['GET', `/roles/${role.uuid}`, `/roles/${missing}`],
        ['PATCH', `/roles/${role.uuid}`, `/roles/${missing}`, { name: 'Stolen' }],
        ['DELETE', `/roles/${role.uuid}`, `/roles/${missing}`],
        ['GET', `/users/${user.user}`, `/users/${missing}`],
        ['PATCH', `/users/${user.user}`, `/users/${missing}`, { status: 'disabled' }],
        ['DELETE', `/users/${user.user}`, `/users/${missing}`],
        ['GET', `/users/${user.user}/secrets`, `/users/${missing}/secrets`],
        ['POST', `/users/${user.user}/secrets/pin`, `/users/${missing}/secrets/pin`],
        [
          'PATCH',
          `/users/${user.user}/secrets/${fingerprint}`,
          `/users/${missing}/secrets/${fingerprint}`,
          { validity_ts: 0 },
        ],
        ['DELETE', `/users/${user.user}/secrets/${fingerprint}`, `/users/${missing}/secrets/${fingerprint}`],
        ['GET', `/permissions/${permission.body.id}`, `/permissions/${missingPermission}`],
        [
          'PUT',
          `/permissions/${permission.body.id}`,
          `/permissions/${missingPermission}`,
          { name: 'Stolen' },
        ],
        [
          'PUT',
          `/permissions/${permission.body.id}/archive`,
          `/permissions/${missingPermission}/archive`,
          { isArchived: true },
        ],
        [
          'GET',
          `/permissions/${permission.body.id}/assignments`,
          `/permissions/${missingPermission}/assignments`,
        ],
        [
          'POST',
          `/permissions/${permission.body.id}/assignments`,
          `/permissions/${missingPermission}/assignments`,
          { identityId: other.user },
        ],
        [
          'DELETE',
          `/permissions/${permission.body.id}/assignments/${assignment.body.id}`,
          `/permissions/${missingPermission}/assignments/${assignment.body.id}`,
        ],
      ];
      for (const [method, foreign, absent, body] of cases) {
        const a = await api.request(method, foreign, { secret: other.secret, body });
        const b = await api.request(method, absent, { secret: other.secret, body });
        expectErrorShape(a, 404, 'not_found');
        expect({ method, foreign, description: a.body.description }).toEqual({
          method,
          foreign,
          description: b.body.description,
        });
      }
      // Nothing was changed by the other account's attempts.
      expect((await api.get('/whoami', { secret: user.secret })).status).toBe(200);
      expect((await api.get(`/roles/${role.uuid}`, { secret: acme.secret })).body.name).toBe('Custom');
      expect(
        (await api.get(`/permissions/${permission.body.id}`, { secret: acme.secret })).body.isArchived,
      ).toBe(false);
    });

    it('never lists them', async () => {
      const roles = await api.get('/roles', { secret: other.secret });
      const users = await api.get('/users', { secret: other.secret });
      const permissions = await api.get('/permissions', { secret: other.secret });
      expect(JSON.stringify([roles.body, users.body, permissions.body])).not.toContain(acme.account);
      expect(Object.values<any>(users.body.users).map((u) => u.account)).toEqual([other.account]);
    });

    it('cannot be given to users of this account (role, permission assignment)', async () => {
      expectErrorShape(
        await api.post('/users', { secret: other.secret, body: { name: 'x', role: acme.role } }),
        400,
        'invalid_role',
      );
      const permission = await api.post('/permissions', {
        secret: other.secret,
        body: { name: 'Mine', operations: ['who_am_i'] },
      });
      expectErrorShape(
        await api.post(`/permissions/${permission.body.id}/assignments`, {
          secret: other.secret,
          body: { identityId: acme.user },
        }),
        400,
        'invalid_user',
      );
    });
  });

  describe('bad input', () => {
    /** Each write endpoint with a body it would accept, so that one added flaw is the only problem. */
    const writes: Array<[string, string, () => Record<string, unknown>]> = [
      ['POST', '/roles', () => ({ name: 'Valid' })],
      ['POST', '/users', () => ({ name: 'valid', role: acme.role })],
      ['PATCH', '/account', () => ({ name: 'acme' })],
      ['POST', '/permissions', () => ({ name: 'Valid', operations: ['who_am_i'] })],
      ['POST', '/secrets', () => ({ account: acme.account, user: acme.user, pin: '000000' })],
    ];

    it.each(writes)('%s %s answers malformed JSON with 400 invalid_json', async (method, path) => {
      const res = await api.request(method, path, { secret: acme.secret, raw: '{"name": "x",' });
      expectErrorShape(res, 400, 'invalid_json');
    });

    it.each(writes)('%s %s answers a body that is not an object with 400', async (method, path) => {
      for (const raw of ['"text"', '[1, 2]', 'null', '42', 'true']) {
        const res = await api.request(method, path, { secret: acme.secret, raw });
        expectErrorShape(res, 400);
      }
    });

    it.each(writes)(
      '%s %s answers an unknown attribute with 400 unknown_attribute',
      async (method, path, valid) => {
        const res = await api.request(method, path, {
          secret: acme.secret,
          body: { ...valid(), surprise: 1 },
        });
        expectErrorShape(res, 400, 'unknown_attribute');
        expect(res.body.description).toContain('surprise');
      },
    );

    it.each(writes)('%s %s answers a 70 KiB body with 400 body_too_large', async (method, path, valid) => {
      const res = await api.request(method, path, {
        secret: acme.secret,
        body: { ...valid(), filler: 'x'.repeat(70 * 1024) },
      });
      expectErrorShape(res, 400, 'body_too_large');
    });

    it.each([
      ['POST', '/roles', { name: 5 }],
      ['POST', '/roles', { name: 'Ok', statement: { effect: 'maybe' } }],
      ['POST', '/roles', { name: 'Ok', statement: { effect: 'allow', actions: 'get_users' } }],
      ['POST', '/roles', { name: 'Ok', statement: { effect: 'allow', actions: [1] } }],
      ['POST', '/roles', { name: 'Ok', rules: { twin_rule: 5 } }],
      ['POST', '/roles', { name: 'Ok', rules: 'true' }],
      ['POST', '/users', { name: ['x'], role: 'y' }],
      ['POST', '/users', { name: 'x' }],
      ['PATCH', '/account', { name: null }],
      ['POST', '/permissions', { name: 'x', operations: 'who_am_i' }],
      ['POST', '/secrets', { account: 1, user: 2, pin: 3 }],
    ])('%s %s answers wrong types with 400', async (method, path, body) => {
      const res = await api.request(method, path, { secret: acme.secret, body });
      expectErrorShape(res, 400);
    });

    it('answers a missing body with 400', async () => {
      for (const [method, path] of writes)
        expectErrorShape(await api.request(method, path, { secret: acme.secret }), 400);
    });

    it.each([
      ['GET', '/roles/not-a-uuid'],
      ['PATCH', '/roles/123'],
      ['DELETE', '/roles/%27%20OR%201=1'],
      ['GET', '/users/zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz'],
      ['GET', '/users/not-a-uuid/secrets'],
      ['POST', '/users/not-a-uuid/secrets/pin'],
      ['PATCH', `/users/${randomUUID()}/secrets/not-a-fingerprint`],
      ['DELETE', `/users/${randomUUID()}/secrets/twx_`],
      ['GET', '/permissions/pm-1'],
      ['PUT', '/permissions/PM-AAAAA-BBBBB-CCCCCCCCCCCCCC'],
      ['DELETE', '/permissions/pm-aaaaa-bbbbb-cccccccccccccc/assignments/as-1'],
    ])('%s %s answers a malformed id with 404 not_found', async (method, path) => {
      const body = method === 'GET' || method === 'DELETE' ? undefined : {};
      expectErrorShape(await api.request(method, path, { secret: acme.secret, body }), 404, 'not_found');
    });

    it('never answers 500 to hostile input', async () => {
      const bodies: unknown[] = [
        { name: '\u0000' },
        { name: 'x'.repeat(10_000) },
        { name: 'Ok', statement: { effect: 'allow', actions: Array(150).fill('who_am_i') } },
        { name: 'Ok', rules: { twin_rule: '('.repeat(5000) } },
        { name: 'Ok', rules: { twin_rule: 'x'.repeat(3000) } },
        { name: 'x', role: acme.role, description: { a: { b: { c: { d: [[[[[]]]]] } } } } },
        { name: 'x', role: acme.role, description: { a: 'nul \u0000 inside' } },
        { name: 'Ok', rules: { twin_rule: 'TWIN.a == "\u0000"' } },
        { name: 'Ok', operations: ['who_am_i'] },
        { name: 'x', operations: [] },
        { identityId: '' },
        '{"__proto__": {"polluted": true}}',
        '{"constructor": {"prototype": {"polluted": true}}}',
        '{"name": "\\ud800"}',
      ];
      const targets: Array<[string, string]> = [
        ...writes.map(([method, path]): [string, string] => [method, path]),
        ['PATCH', `/roles/${acme.role}`],
        ['PATCH', `/users/${acme.user}`],
      ];
      for (const [method, path] of targets) {
        for (const body of bodies) {
          const res = await api.request(method, path, {
            secret: acme.secret,
            ...(typeof body === 'string' ? { raw: body } : { body }),
          });
          expect({ method, path, body, status: res.status < 500 }).toEqual({
            method,
            path,
            body,
            status: true,
          });
        }
      }
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      const query = await api.get('/permissions', { secret: acme.secret, query: { limit: ['1', '2'] } });
      expectErrorShape(query, 400, 'invalid_parameter');
    });
  });

  describe('secrets in responses', () => {
    it('never appear in any read, only their fingerprints', async () => {
      const user = await aUserWithStatement({ effect: 'allow', actions: ['who_am_i'] });
      const reads = await Promise.all(
        [
          '/roles',
          '/users',
          `/users/${user.user}`,
          `/users/${user.user}/secrets`,
          `/users/${acme.user}/secrets`,
          '/whoami',
          '/account',
          '/permissions',
        ].map((path) => api.get(path, { secret: acme.secret })),
      );
      for (const res of reads) {
        expect(res.status).toBe(200);
        expect(res.text).not.toContain(acme.secret);
        expect(res.text).not.toContain(user.secret);
        expect(res.text).not.toMatch(/twx_[0-9A-Za-z]{20,}/);
        expect(res.text).not.toMatch(/"(hash|pin_hash|secret)"\s*:\s*"/);
      }
      const secrets = await api.get(`/users/${user.user}/secrets`, { secret: acme.secret });
      expect(secrets.body.secrets).toHaveLength(1);
      const [shown] = secrets.body.secrets;
      expect(Object.keys(shown).sort()).toEqual([
        'created_ts',
        'fingerprint',
        'last_used_ts',
        'updated_ts',
        'validity_ts',
      ]);
      expect(shown.fingerprint).toBe(user.secret.slice(0, 12));
      expect(shown.last_used_ts === null || typeof shown.last_used_ts === 'number').toBe(true);
    });
  });
});
