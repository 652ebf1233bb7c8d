import { Explanation } from '../apps/api/openapi/response-schemas.js';
import {
  aName,
  anIdentity,
  attach,
  aTwin,
  expectStatus,
  Fixtures,
  type Party,
  pathOf,
  trustedTwinHeader,
  type TwinBody,
} from './support/factories.js';
import { expectErrorShape, type HttpResponse, TestApi } from './support/test-app.js';

/**
 * POST /resolve/explain (docs/resolution.md "Explaining an answer") against the real app, PostgreSQL and Redis:
 * it answers exactly what GET /resolve answers, says why, and — written as the attacker — tells nothing more about
 * other accounts' identities than GET /resolve does.
 */
describe('POST /resolve/explain', () => {
  let api: TestApi;
  let fx: Fixtures;
  let alice: Party;
  let bob: Party;

  beforeAll(async () => {
    api = await TestApi.start();
    fx = await Fixtures.connect(api);
    [alice, bob] = await Promise.all([fx.anAccount('alice'), fx.anAccount('bob')]);
  }, 60_000);
  afterAll(async () => {
    await fx.close();
    await api.stop();
  });

  const explain = (party: Party, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    api.post('/resolve/explain', { secret: party.secret, body, headers });

  /** GET /resolve's raw response for the same question. */
  const getResolve = (
    party: Party,
    name: string,
    query: Record<string, string | string[] | undefined> = {},
    headers: Record<string, string> = {},
  ) => api.get(`/resolve/${pathOf(name)}`, { secret: party.secret, query, headers });

  function explained(res: HttpResponse): Explanation {
    expectStatus(res, 200);
    const parsed = Explanation.safeParse(res.body);
    expect(parsed.success ? [] : parsed.error.issues).toEqual([]);
    return res.body as Explanation;
  }
  type Explanation = import('zod').infer<typeof Explanation>;

  describe("the README's worked example: a gate whose role's identity_rule reads DICT.site", () => {
    let gate: Party;
    let twin: TwinBody;
    const name = aName();

    beforeAll(async () => {
      gate = await fx.aUser(alice, {
        effect: 'allow',
        actions: ['resolve_twin_identity', 'explain_resolution'],
        identityRule: "DICT.site == 'WAW'",
      });
      twin = await aTwin(api, alice, { kind: 'pallet' });
      await attach(api, alice, twin.uuid, { [name]: anIdentity() });
    });

    it('names the failing rule and its missing variable when the gate sends no X-TrustedTwin', async () => {
      const res = explained(await explain(gate, { identity: name }));
      expect(res.answer).toEqual({ twins: [] });
      expect(res.action).toEqual({ name: 'resolve_twin_identity', decision: 'allow', by: 'role statement' });
      expect(res.caller).toEqual({
        account: alice.account,
        user: gate.user,
        role: gate.role,
        credential: 'secret',
        as_user: false,
        dict: {},
      });
      expect(res.context).toEqual({ given: 'personal', accounts: [alice.account] });
      expect(res.rows).toEqual([
        {
          twin: twin.uuid,
          owner: alice.account,
          personal: true,
          kept: false,
          visibility: null,
          checks: [
            { check: 'context', passed: true },
            { check: 'validity', passed: true, validity_ts: null },
            { check: 'visibility', passed: true, detail: 'own identity' },
            {
              check: 'role.identity_rule',
              passed: false,
              rule: "DICT.site == 'WAW'",
              missing: ['DICT.site'],
              detail: 'evaluated to false',
            },
          ],
        },
      ]);
      expect((await getResolve(gate, name)).body).toEqual(res.answer);
    });

    it('resolves once the dictionary names the site: in the header, or assumed in the body', async () => {
      const header = trustedTwinHeader({ site: 'WAW' });
      const viaHeader = explained(await explain(gate, { identity: name }, header));
      expect(viaHeader.answer).toEqual({ twins: [twin.uuid] });
      expect(viaHeader.rows[0].kept).toBe(true);
      expect(viaHeader.rows[0].checks.at(-1)).toEqual({
        check: 'role.identity_rule',
        passed: true,
        rule: "DICT.site == 'WAW'",
        detail: 'evaluated to true',
      });
      expect((await getResolve(gate, name, {}, header)).body).toEqual(viaHeader.answer);
      const assumed = explained(await explain(gate, { identity: name, dict: { site: 'WAW' } }));
      expect(assumed.answer).toEqual({ twins: [twin.uuid] });
      expect(assumed.caller.dict).toEqual({ site: 'WAW' });
    });

    it("lets the account's Admin explain it for the gate's user, without the gate's secret", async () => {
      const res = explained(await explain(alice, { identity: name, as_user: gate.user }));
      expect(res.caller).toMatchObject({ user: gate.user, role: gate.role, as_user: true, dict: {} });
      expect(res.answer).toEqual({ twins: [] });
      expect(res.rows[0].checks.at(-1)).toMatchObject({ passed: false, missing: ['DICT.site'] });
      const withSite = explained(
        await explain(alice, { identity: name, as_user: gate.user, dict: { site: 'WAW' } }),
      );
      expect(withSite.answer).toEqual({ twins: [twin.uuid] });
    });
  });

  describe('the action decision', () => {
    const name = aName();

    it('says which statement refused and lists no rows when resolve_twin_identity is denied', async () => {
      const explainOnly = await fx.aUser(alice, { effect: 'allow', actions: ['explain_resolution'] });
      const res = explained(await explain(explainOnly, { identity: name }));
      expect(res.action).toEqual({
        name: 'resolve_twin_identity',
        decision: 'deny',
        by: 'role statement',
        reason: "not in the role's allow list, and no active permission of the user grants it",
      });
      expect(res.answer).toEqual({
        error: {
          status: 403,
          subcode: 'forbidden',
          description: "Action 'resolve_twin_identity' is not allowed for this user",
        },
      });
      expect(res.rows).toEqual([]);
      expect(res.cache).toEqual({ entry: 'not read' });
      const get = await getResolve(explainOnly, name);
      expectErrorShape(get, 403, 'forbidden');
      expect(get.body.description).toBe(
        res.answer && 'error' in res.answer ? res.answer.error.description : '',
      );

      const denying = await fx.aUser(alice, { effect: 'deny', actions: ['resolve_twin_identity'] });
      expect(explained(await explain(denying, { identity: name })).action).toMatchObject({
        decision: 'deny',
        reason: 'denied by the role statement, and no active permission of the user grants it',
      });
    });

    it('names the permission that allows it, and the built-in role', async () => {
      const user = await fx.aUser(alice, { effect: 'allow', actions: ['explain_resolution'] });
      const permission = await api.post('/permissions', {
        secret: alice.secret,
        body: { name: 'Resolver', operations: ['resolve_twin_identity'] },
      });
      expectStatus(permission, 201);
      expectStatus(
        await api.post(`/permissions/${permission.body.id}/assignments`, {
          secret: alice.secret,
          body: { identityId: user.user },
        }),
        201,
      );
      expect(explained(await explain(user, { identity: name })).action).toEqual({
        name: 'resolve_twin_identity',
        decision: 'allow',
        by: `permission ${permission.body.id}`,
      });
      expect(explained(await explain(alice, { identity: name })).action.by).toBe('built-in role Admin');
    });
  });

  describe('as_user', () => {
    it("answers another account's user exactly as a user that does not exist", async () => {
      const missing = await explain(alice, {
        identity: aName(),
        as_user: 'b0b0b0b0-0000-4000-8000-000000000000',
      });
      const foreign = await explain(alice, { identity: aName(), as_user: bob.user });
      expectErrorShape(missing, 404, 'not_found');
      expectErrorShape(foreign, 404, 'not_found');
      expect(foreign.body.description).toBe(missing.body.description);
    });

    it('needs get_user besides explain_resolution', async () => {
      const user = await fx.aUser(alice, {
        effect: 'allow',
        actions: ['explain_resolution', 'resolve_twin_identity'],
      });
      const res = await explain(user, { identity: aName(), as_user: alice.user });
      expectErrorShape(res, 403, 'forbidden');
      expect(res.body.description).toContain("'get_user'");
    });

    it('explains a disabled user as refused', async () => {
      const user = await fx.aUser(alice);
      expectStatus(
        await api.patch(`/users/${user.user}`, { secret: alice.secret, body: { status: 'disabled' } }),
        200,
      );
      const res = explained(await explain(alice, { identity: aName(), as_user: user.user }));
      expect(res.action).toMatchObject({ decision: 'deny', by: 'user status' });
      expect(res.rows).toEqual([]);
    });
  });

  describe('input', () => {
    it.each([
      [{ identity: 'RFID#' }, 'invalid_identity'],
      [{ identity: 'RFID#x', context: 'nobody' }, 'invalid_parameter'],
      [{ identity: 'RFID#x', surprise: 1 }, 'unknown_attribute'],
      [{ identity: 'RFID#x', dict: [1] }, 'invalid_body'],
      [{ identity: 'RFID#x', details: 'yes' }, 'invalid_body'],
    ])('answers %j with 400 %s', async (body, subcode) => {
      expectErrorShape(await explain(alice, body), 400, subcode);
    });

    it('needs a body', async () => {
      expectErrorShape(await api.post('/resolve/explain', { secret: alice.secret }), 400, 'missing_body');
    });
  });

  it('reports whether the index entry came from the cache, as GET /resolve read it', async () => {
    const name = aName();
    const twin = await aTwin(api, alice);
    await attach(api, alice, twin.uuid, { [name]: anIdentity() });
    expect(explained(await explain(alice, { identity: name })).cache).toEqual({ entry: 'miss' });
    expect(explained(await explain(alice, { identity: name })).cache).toEqual({ entry: 'hit' });
    await attach(api, alice, (await aTwin(api, alice)).uuid, { [name]: anIdentity() });
    expect(explained(await explain(alice, { identity: name })).cache).toEqual({ entry: 'miss' });
  });
});
