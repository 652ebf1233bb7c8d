import { randomUUID } from 'node:crypto';
import { aTwin, expectStatus, Fixtures, type Party, terminate, type TwinBody } from './support/factories.js';
import { expectErrorShape, TestApi } from './support/test-app.js';

describe('twins', () => {
  let api: TestApi;
  let fx: Fixtures;
  let alice: Party;
  let bob: Party;
  /** A user of bob's account whose role may see alice's twins. */
  let bobSeeingAlice: Party;

  beforeAll(async () => {
    api = await TestApi.start();
    fx = await Fixtures.connect(api);
    alice = await fx.anAccount('alice');
    bob = await fx.anAccount('bob');
    bobSeeingAlice = await fx.aUser(bob, { twinRule: `twin_owner == "${alice.account}"` });
  });
  afterAll(async () => {
    await fx.close();
    await api.stop();
  });

  describe('POST /twins', () => {
    it('creates an alive twin owned and certified by the caller’s account', async () => {
      const before = Date.now() / 1000;
      const res = await api.post<TwinBody>('/twins', {
        secret: alice.secret,
        body: { description: { kind: 'pallet' } },
      });
      expectStatus(res, 201);
      const twin = res.body;
      expect(Object.keys(twin).sort()).toEqual(
        ['creation_certificate', 'description', 'owner', 'status', 'updated_ts', 'uuid'].sort(),
      );
      expect(twin).toMatchObject({ owner: alice.account, status: 'alive', description: { kind: 'pallet' } });
      expect(twin.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(twin.creation_certificate).toEqual({
        uuid: twin.uuid,
        creator: alice.account,
        created_ts: twin.updated_ts,
      });
      expect(twin.updated_ts).toBeGreaterThanOrEqual(Math.floor(before));
      expect(Math.round(twin.updated_ts * 1000) / 1000).toBe(twin.updated_ts);
    });

    it('creates a twin with an empty description when no body is sent', async () => {
      const res = await api.post<TwinBody>('/twins', { secret: alice.secret });
      expectStatus(res, 201);
      expect(res.body.description).toEqual({});
    });

    it.each([
      ['an uppercase key', { description: { Kind: 1 } }, 'invalid_description'],
      ['an array', { description: [1] }, 'invalid_description'],
      ['null', { description: null }, 'invalid_description'],
      ['a NUL character', { description: { k: 'a\u0000b' } }, 'invalid_description'],
      ['an unknown attribute', { description: {}, owner: 'x' }, 'unknown_attribute'],
    ])('refuses a description with %s', async (_label, body, subcode) => {
      expectErrorShape(await api.post('/twins', { secret: alice.secret, body }), 400, subcode);
    });

    it('refuses bad JSON as bad input', async () => {
      expectErrorShape(await api.post('/twins', { secret: alice.secret, raw: '{"description": ' }), 400);
    });

    it('refuses a body over 64 KiB with 400 (docs/http.md)', async () => {
      const big = await api.post('/twins', {
        secret: alice.secret,
        body: { description: { k: 'x'.repeat(70_000) } },
      });
      expectErrorShape(big, 400);
    });

    it('needs a secret and the create_twin action', async () => {
      expectErrorShape(await api.post('/twins', { body: {} }), 401);
      const reader = await fx.aUser(alice, { effect: 'allow', actions: ['get_twin', 'scan_twins'] });
      expectErrorShape(await api.post('/twins', { secret: reader.secret, body: {} }), 403, 'forbidden');
    });
  });

  describe('GET /twins/{twin}', () => {
    it('returns an own twin, and 404 alike for unknown, malformed and other accounts’ twins', async () => {
      const twin = await aTwin(api, alice, { kind: 'crate' });
      const own = await api.get<TwinBody>(`/twins/${twin.uuid}`, { secret: alice.secret });
      expectStatus(own, 200);
      expect(own.body).toEqual(twin);
      expect((await api.get(`/twins/${twin.uuid.toUpperCase()}`, { secret: alice.secret })).status).toBe(200);
      expectErrorShape(await api.get(`/twins/${twin.uuid}`, { secret: bob.secret }), 404, 'not_found');
      expectErrorShape(await api.get(`/twins/${randomUUID()}`, { secret: alice.secret }), 404, 'not_found');
      expectErrorShape(await api.get('/twins/not-a-uuid', { secret: alice.secret }), 404, 'not_found');
    });

    it('shows a foreign twin to a user whose role twin_rule matches it', async () => {
      const twin = await aTwin(api, alice);
      expectStatus(await api.get(`/twins/${twin.uuid}`, { secret: bobSeeingAlice.secret }), 200);
      const bobsOwn = await aTwin(api, bob);
      const carol = await fx.anAccount('carol');
      expectErrorShape(await api.get(`/twins/${bobsOwn.uuid}`, { secret: carol.secret }), 404);
    });
  });

  describe('PATCH /twins/{twin}', () => {
    it('replaces the description and moves updated_ts', async () => {
      const twin = await aTwin(api, alice, { kind: 'pallet', weight: 3 });
      const res = await api.patch<TwinBody>(`/twins/${twin.uuid}`, {
        secret: alice.secret,
        body: { description: { kind: 'box' } },
      });
      expectStatus(res, 200);
      expect(res.body.description).toEqual({ kind: 'box' });
      expect(res.body.updated_ts).toBeGreaterThanOrEqual(twin.updated_ts);
      expect(res.body.creation_certificate).toEqual(twin.creation_certificate);
    });

    it('is for the owner only: 403 when the caller sees the twin, 404 when not', async () => {
      const twin = await aTwin(api, alice);
      const body = { description: { x: 1 } };
      expectErrorShape(await api.patch(`/twins/${twin.uuid}`, { secret: bobSeeingAlice.secret, body }), 403);
      expectErrorShape(await api.patch(`/twins/${twin.uuid}`, { secret: bob.secret, body }), 404);
    });

    it('refuses a terminated twin, a missing description and unknown attributes', async () => {
      const twin = await aTwin(api, alice);
      expectErrorShape(await api.patch(`/twins/${twin.uuid}`, { secret: alice.secret, body: {} }), 400);
      expectErrorShape(
        await api.patch(`/twins/${twin.uuid}`, {
          secret: alice.secret,
          body: { description: {}, status: 'x' },
        }),
        400,
        'unknown_attribute',
      );
      await terminate(api, alice, twin.uuid);
      const res = await api.patch(`/twins/${twin.uuid}`, { secret: alice.secret, body: { description: {} } });
      expectErrorShape(res, 400, 'twin_terminated');
    });
  });

  describe('DELETE /twins/{twin}', () => {
    it('terminates with a certificate, keeps the twin visible, and refuses a second termination', async () => {
      const twin = await aTwin(api, alice, { kind: 'pallet' });
      const done = await terminate(api, alice, twin.uuid);
      expect(done.status).toBe('terminated');
      expect(done.termination_certificate).toEqual({ issuer: alice.account, terminated_ts: done.updated_ts });
      expect(done.description).toEqual({ kind: 'pallet' });
      const seen = await api.get<TwinBody>(`/twins/${twin.uuid}`, { secret: alice.secret });
      expect(seen.body).toEqual(done);
      expectErrorShape(
        await api.delete(`/twins/${twin.uuid}`, { secret: alice.secret }),
        400,
        'idempotency_violation',
      );
    });

    it('is for the owner only', async () => {
      const twin = await aTwin(api, alice);
      expectErrorShape(await api.delete(`/twins/${twin.uuid}`, { secret: bobSeeingAlice.secret }), 403);
      expectErrorShape(await api.delete(`/twins/${twin.uuid}`, { secret: bob.secret }), 404);
      expect((await api.get<TwinBody>(`/twins/${twin.uuid}`, { secret: alice.secret })).body.status).toBe(
        'alive',
      );
    });
  });

  describe('GET /twins (scan)', () => {
    let dave: Party;
    let daves: TwinBody[];
    let eve: Party;

    beforeAll(async () => {
      dave = await fx.anAccount('dave');
      eve = await fx.anAccount('eve');
      daves = [];
      for (let i = 0; i < 7; i++) daves.push(await aTwin(api, dave, { n: i }));
      // The scan order: updated_ts, then uuid (twins created in the same millisecond tie on the first).
      daves.sort((a, b) => a.updated_ts - b.updated_ts || (a.uuid < b.uuid ? -1 : 1));
      await aTwin(api, eve);
    });

    async function scanAll(
      party: Party,
      query: Record<string, string>,
    ): Promise<{ pages: unknown[][]; all: unknown[] }> {
      const pages: unknown[][] = [];
      let cursor: string | undefined;
      for (let guard = 0; guard < 50; guard++) {
        const res = await api.get<{ twins: unknown[]; cursor: string | null }>('/twins', {
          secret: party.secret,
          query: { ...query, cursor },
        });
        expectStatus(res, 200);
        pages.push(res.body.twins);
        if (res.body.cursor === null) break;
        cursor = res.body.cursor;
      }
      return { pages, all: pages.flat() };
    }

    it('pages through the caller’s twins in updated order with an opaque cursor, null on the last page', async () => {
      const { pages, all } = await scanAll(dave, { count: '3' });
      expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
      expect(all).toEqual(daves.map((t) => t.uuid));
    });

    it('accepts limit as an alias of count and answers twin objects with details=true', async () => {
      const { pages, all } = await scanAll(dave, { limit: '4', details: 'TRUE' });
      expect(pages.map((p) => p.length)).toEqual([4, 3]);
      expect(all).toEqual(daves);
    });

    it('defaults to 100 per page and ends with a null cursor', async () => {
      const res = await api.get('/twins', { secret: dave.secret });
      expect(res.body).toEqual({ twins: daves.map((t) => t.uuid), cursor: null });
    });

    it('filters by updated_since', async () => {
      const since = daves[4].updated_ts;
      const { all } = await scanAll(dave, { updated_since: String(since), count: '2' });
      expect(all).toEqual(daves.filter((t) => t.updated_ts >= since).map((t) => t.uuid));
    });

    it('includes foreign twins the role twin_rule matches, and only those', async () => {
      const watcher = await fx.aUser(eve, { twinRule: `twin_owner == "${dave.account}" and TWIN.n >= 5` });
      const { all } = await scanAll(watcher, { count: '1' });
      const eves = (await api.get('/twins', { secret: eve.secret })).body.twins as string[];
      const matching = daves.filter((t) => (t.description.n as number) >= 5).map((t) => t.uuid);
      expect(new Set(all)).toEqual(new Set([...eves, ...matching]));
      expect(all).toHaveLength(3);
    });

    it.each([
      [{ match: 'x' }, 'unsupported_parameter'],
      [{ count: '0' }, 'invalid_parameter'],
      [{ count: '1001' }, 'invalid_parameter'],
      [{ count: 'ten' }, 'invalid_parameter'],
      [{ limit: '-1' }, 'invalid_parameter'],
      [{ details: 'yes' }, 'invalid_parameter'],
      [{ updated_since: 'yesterday' }, 'invalid_parameter'],
      [{ cursor: 'not a cursor' }, 'invalid_parameter'],
      [{ cursor: Buffer.from('[1,"x"]').toString('base64url') }, 'invalid_parameter'],
    ])('refuses %j', async (query, subcode) => {
      expectErrorShape(await api.get('/twins', { secret: dave.secret, query }), 400, subcode);
    });
  });

  describe('audit log', () => {
    it('records every twin write with user, action, target and the request id, for the account only', async () => {
      const frank = await fx.anAccount('frank');
      const created = await api.post<TwinBody>('/twins', { secret: frank.secret, body: {} });
      const uuid = created.body.uuid;
      const updated = await api.patch(`/twins/${uuid}`, {
        secret: frank.secret,
        body: { description: { a: 1 } },
      });
      const terminated = await api.delete(`/twins/${uuid}`, { secret: frank.secret });
      const failed = await api.delete(`/twins/${uuid}`, { secret: frank.secret });
      expect(failed.status).toBe(400);

      const log = await api.get('/log', { secret: frank.secret });
      expectStatus(log, 200);
      expect(log.body.cursor).toBeNull();
      expect(log.body.fragment).toBeNull();
      expect(log.body.messages).toHaveLength(log.body.entries.length);
      expect(log.body.entries).toEqual(
        [
          ['terminate_twin', terminated],
          ['update_twin', updated],
          ['create_twin', created],
        ].map(([action, res]) => ({
          id: expect.stringMatching(/^\d+$/),
          user: frank.user,
          action,
          target_type: 'twin',
          target: uuid,
          trace: (res as { headers: Headers }).headers.get('x-request-id'),
          created_ts: expect.any(Number),
          ts: expect.any(Number),
        })),
      );
      const others = await api.get('/log', { secret: alice.secret });
      expect(others.body.entries.map((e: { target: string }) => e.target)).not.toContain(uuid);
    });

    it('pages newest first with limit and cursor', async () => {
      const gina = await fx.anAccount('gina');
      const twins: string[] = [];
      for (let i = 0; i < 5; i++) twins.push((await aTwin(api, gina)).uuid);
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let guard = 0; guard < 10; guard++) {
        const res = await api.get('/log', { secret: gina.secret, query: { limit: '2', cursor } });
        expectStatus(res, 200);
        seen.push(...res.body.entries.map((e: { target: string }) => e.target));
        if (res.body.cursor === null) break;
        cursor = res.body.cursor;
      }
      expect(seen).toEqual([...twins].reverse());
      expectErrorShape(await api.get('/log', { secret: gina.secret, query: { limit: '0' } }), 400);
      expectErrorShape(await api.get('/log', { secret: gina.secret, query: { cursor: 'abc' } }), 400);
    });
  });
});
