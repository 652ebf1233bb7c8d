import { randomUUID } from 'node:crypto';
import { expectErrorShape, type HttpResponse, type TestAccount, TestApi } from './support/test-app.js';

/**
 * Permissions and assignments (DFNS shape, docs/access.md): CRUD, paging, and the actions they add to a role's
 * statement.
 */

function expectStatus(res: HttpResponse, status: number): void {
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${res.text}`);
}

const PERMISSION_ID = /^pm-[a-z0-9]{5}-[a-z0-9]{5}-[a-z0-9]{14,16}$/;
const ASSIGNMENT_ID = /^as-[a-z0-9]{5}-[a-z0-9]{5}-[a-z0-9]{14,16}$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('permissions and assignments', () => {
  let api: TestApi;
  let acme: TestAccount;
  /** A user whose role allows only who_am_i: everything else must come from permissions. */
  let narrow: TestAccount;

  async function aPermission(operations: string[], name = 'Grant', as: TestAccount = acme): Promise<string> {
    const res = await api.post('/permissions', { secret: as.secret, body: { name, operations } });
    expectStatus(res, 201);
    return res.body.id;
  }

  async function assign(permission: string, user: string): Promise<string> {
    const res = await api.post(`/permissions/${permission}/assignments`, {
      secret: acme.secret,
      body: { identityId: user },
    });
    expectStatus(res, 201);
    return res.body.id;
  }

  beforeAll(async () => {
    api = await TestApi.start();
    acme = await api.createAccount('acme');
    const role = await api.post('/roles', {
      secret: acme.secret,
      body: { name: 'Narrow', statement: { effect: 'allow', actions: ['who_am_i'] } },
    });
    const user = await api.post('/users', {
      secret: acme.secret,
      body: { name: 'narrow', role: role.body.uuid },
    });
    const pin = await api.post(`/users/${user.body.uuid}/secrets/pin`, { secret: acme.secret });
    const secret = await api.post('/secrets', {
      body: { account: acme.account, user: user.body.uuid, pin: pin.body.pin },
    });
    narrow = {
      account: acme.account,
      user: user.body.uuid,
      role: role.body.uuid,
      secret: secret.body.secret,
    };
  });
  afterAll(async () => {
    await api.stop();
  });

  describe('the permission resource', () => {
    it('creates a permission in the DFNS shape and reads it back', async () => {
      const res = await api.post('/permissions', {
        secret: acme.secret,
        body: { name: 'Resolver', operations: ['resolve_twin_identity'] },
      });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: expect.stringMatching(PERMISSION_ID),
        name: 'Resolver',
        operations: ['resolve_twin_identity'],
        status: 'Active',
        isImmutable: false,
        isArchived: false,
        dateCreated: expect.stringMatching(ISO_DATE),
        dateUpdated: res.body.dateCreated,
      });
      expect((await api.get(`/permissions/${res.body.id}`, { secret: acme.secret })).body).toEqual(res.body);
    });

    it.each([
      ['no operations', { name: 'x', operations: [] }, 'invalid_action'],
      ['an unknown operation', { name: 'x', operations: ['who_am_i', 'fly'] }, 'invalid_action'],
      ['a repeated operation', { name: 'x', operations: ['who_am_i', 'who_am_i'] }, 'duplicate_action'],
      ['an empty name', { name: '', operations: ['who_am_i'] }, 'invalid_name'],
      ['a 101-character name', { name: 'n'.repeat(101), operations: ['who_am_i'] }, 'invalid_name'],
      [
        'a snake_case attribute',
        { name: 'x', operations: ['who_am_i'], is_archived: true },
        'unknown_attribute',
      ],
    ])('refuses %s with 400', async (_label, body, subcode) => {
      expectErrorShape(await api.post('/permissions', { secret: acme.secret, body }), 400, subcode);
    });

    it('updates name and operations with PUT; attributes not given stay', async () => {
      const id = await aPermission(['get_users']);
      const renamed = await api.put(`/permissions/${id}`, {
        secret: acme.secret,
        body: { name: 'Users reader' },
      });
      expect(renamed.status).toBe(200);
      expect(renamed.body).toMatchObject({ name: 'Users reader', operations: ['get_users'] });
      const widened = await api.put(`/permissions/${id}`, {
        secret: acme.secret,
        body: { operations: ['get_users', 'get_user'] },
      });
      expect(widened.body).toMatchObject({ name: 'Users reader', operations: ['get_users', 'get_user'] });
      expectErrorShape(
        await api.put(`/permissions/${id}`, { secret: acme.secret, body: { operations: ['nope'] } }),
        400,
        'invalid_action',
      );
    });

    it('archives: stays readable, cannot be updated or assigned, archiving again is harmless', async () => {
      const id = await aPermission(['get_users']);
      const archived = await api.put(`/permissions/${id}/archive`, {
        secret: acme.secret,
        body: { isArchived: true },
      });
      expect(archived.status).toBe(200);
      expect(archived.body).toMatchObject({ id, isArchived: true, status: 'Active' });
      expect((await api.get(`/permissions/${id}`, { secret: acme.secret })).body.isArchived).toBe(true);
      expectErrorShape(
        await api.put(`/permissions/${id}`, { secret: acme.secret, body: { name: 'x' } }),
        400,
        'archived',
      );
      expectErrorShape(
        await api.post(`/permissions/${id}/assignments`, {
          secret: acme.secret,
          body: { identityId: narrow.user },
        }),
        400,
        'archived',
      );
      const again = await api.put(`/permissions/${id}/archive`, {
        secret: acme.secret,
        body: { isArchived: true },
      });
      expect(again.status).toBe(200);
      expect(again.body.dateUpdated).toBe(archived.body.dateUpdated);
    });

    it.each([[{ isArchived: false }], [{}], [{ isArchived: 'yes' }], [{ isArchived: true, name: 'x' }]])(
      'refuses %j as archive body with 400',
      async (body) => {
        const id = await aPermission(['get_users']);
        expectErrorShape(await api.put(`/permissions/${id}/archive`, { secret: acme.secret, body }), 400);
        expect((await api.get(`/permissions/${id}`, { secret: acme.secret })).body.isArchived).toBe(false);
      },
    );
  });

  describe('paging', () => {
    it('walks every permission once with limit and paginationToken, then stops', async () => {
      const account = await api.createAccount('paging');
      const made: string[] = [];
      for (let i = 0; i < 7; i++) made.push(await aPermission(['who_am_i'], `P${i}`, account));
      const seen: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const res = await api.get('/permissions', {
          secret: account.secret,
          query: { limit: '3', paginationToken: token },
        });
        expect(res.status).toBe(200);
        expect(res.body.items.length).toBeLessThanOrEqual(3);
        seen.push(...res.body.items.map((p: { id: string }) => p.id));
        token = res.body.nextPageToken;
        pages++;
      } while (token !== undefined && pages < 10);
      expect(pages).toBe(3);
      expect(seen).toEqual(made);
      const all = await api.get('/permissions', { secret: account.secret });
      expect(all.body.items).toHaveLength(7);
      expect(all.body).not.toHaveProperty('nextPageToken');
    });

    it.each([['0'], ['101'], ['-1'], ['ten'], ['1.5']])(
      'refuses limit=%s with 400 invalid_parameter',
      async (limit) => {
        expectErrorShape(
          await api.get('/permissions', { secret: acme.secret, query: { limit } }),
          400,
          'invalid_parameter',
        );
      },
    );

    it('refuses a forged paginationToken with 400 invalid_parameter and ignores unknown query parameters', async () => {
      for (const paginationToken of ['not a token', 'e30', Buffer.from('[1]').toString('base64url')]) {
        expectErrorShape(
          await api.get('/permissions', { secret: acme.secret, query: { paginationToken } }),
          400,
          'invalid_parameter',
        );
      }
      expect((await api.get('/permissions', { secret: acme.secret, query: { colour: 'blue' } })).status).toBe(
        200,
      );
    });
  });

  describe('assignments', () => {
    it('assigns, lists and revokes, in the DFNS shape', async () => {
      const id = await aPermission(['get_user_roles']);
      const created = await api.post(`/permissions/${id}/assignments`, {
        secret: acme.secret,
        body: { identityId: narrow.user.toUpperCase() },
      });
      expect(created.status).toBe(201);
      expect(created.body).toEqual({
        id: expect.stringMatching(ASSIGNMENT_ID),
        permissionId: id,
        identityId: narrow.user,
        dateCreated: expect.stringMatching(ISO_DATE),
      });
      const list = await api.get(`/permissions/${id}/assignments`, { secret: acme.secret });
      expect(list.body).toEqual({ items: [created.body] });
      expectErrorShape(
        await api.post(`/permissions/${id}/assignments`, {
          secret: acme.secret,
          body: { identityId: narrow.user },
        }),
        400,
        'already_assigned',
      );
      const revoked = await api.delete(`/permissions/${id}/assignments/${created.body.id}`, {
        secret: acme.secret,
      });
      expect(revoked.status).toBe(200);
      expect(revoked.body).toEqual(created.body);
      expect((await api.get(`/permissions/${id}/assignments`, { secret: acme.secret })).body).toEqual({
        items: [],
      });
      expectErrorShape(
        await api.delete(`/permissions/${id}/assignments/${created.body.id}`, { secret: acme.secret }),
        404,
        'not_found',
      );
    });

    it('refuses an identityId that is not a user of the account with 400 invalid_user', async () => {
      const id = await aPermission(['who_am_i']);
      for (const identityId of [randomUUID(), 'admin', '']) {
        expectErrorShape(
          await api.post(`/permissions/${id}/assignments`, { secret: acme.secret, body: { identityId } }),
          400,
          'invalid_user',
        );
      }
    });

    it('answers 404 for an assignment of another permission', async () => {
      const a = await aPermission(['get_users']);
      const b = await aPermission(['get_users']);
      const assignment = await assign(a, narrow.user);
      expectErrorShape(
        await api.delete(`/permissions/${b}/assignments/${assignment}`, { secret: acme.secret }),
        404,
      );
      await api.delete(`/permissions/${a}/assignments/${assignment}`, { secret: acme.secret });
    });
  });

  describe('what a permission allows', () => {
    it('allows an action the role lacks, at once', async () => {
      const denied = await api.get('/users', { secret: narrow.secret });
      expectErrorShape(denied, 403, 'forbidden');
      expect(denied.body.description).toContain('get_users');
      const permission = await aPermission(['get_users']);
      const assignment = await assign(permission, narrow.user);
      expect((await api.get('/users', { secret: narrow.secret })).status).toBe(200);
      expect((await api.get('/whoami', { secret: narrow.secret })).body.actions).toEqual([
        'get_users',
        'who_am_i',
      ]);
      await api.delete(`/permissions/${permission}/assignments/${assignment}`, { secret: acme.secret });
    });

    it('stops allowing at once when the assignment is revoked', async () => {
      const permission = await aPermission(['get_users']);
      const assignment = await assign(permission, narrow.user);
      expect((await api.get('/users', { secret: narrow.secret })).status).toBe(200);
      await api.delete(`/permissions/${permission}/assignments/${assignment}`, { secret: acme.secret });
      expectErrorShape(await api.get('/users', { secret: narrow.secret }), 403, 'forbidden');
    });

    it('stops allowing at once when the permission is archived', async () => {
      const permission = await aPermission(['get_users']);
      await assign(permission, narrow.user);
      expect((await api.get('/users', { secret: narrow.secret })).status).toBe(200);
      await api.put(`/permissions/${permission}/archive`, {
        secret: acme.secret,
        body: { isArchived: true },
      });
      expectErrorShape(await api.get('/users', { secret: narrow.secret }), 403, 'forbidden');
      expect((await api.get('/whoami', { secret: narrow.secret })).body.actions).toEqual(['who_am_i']);
    });

    it('follows an update of the operations at once', async () => {
      const permission = await aPermission(['get_users']);
      const assignment = await assign(permission, narrow.user);
      expect((await api.get('/users', { secret: narrow.secret })).status).toBe(200);
      await api.put(`/permissions/${permission}`, {
        secret: acme.secret,
        body: { operations: ['get_account'] },
      });
      expectErrorShape(await api.get('/users', { secret: narrow.secret }), 403, 'forbidden');
      expect((await api.get('/account', { secret: narrow.secret })).status).toBe(200);
      await api.delete(`/permissions/${permission}/assignments/${assignment}`, { secret: acme.secret });
    });

    it('goes away with the user: a deleted user’s assignments are gone', async () => {
      const role = await api.post('/roles', { secret: acme.secret, body: { name: 'Tmp' } });
      const user = await api.post('/users', {
        secret: acme.secret,
        body: { name: 'tmp', role: role.body.uuid },
      });
      const permission = await aPermission(['get_users']);
      await assign(permission, user.body.uuid);
      await api.delete(`/users/${user.body.uuid}`, { secret: acme.secret });
      expect(
        (await api.get(`/permissions/${permission}/assignments`, { secret: acme.secret })).body.items,
      ).toEqual([]);
    });
  });
});
