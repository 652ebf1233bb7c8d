/**
 * Issue #10, as an attacker holding a legitimate account would try it: rules as a denial of service (1),
 * privilege escalation through user management (6), bad text reaching the database (8), and twin sharing as the
 * operator's choice (9). Each test failed on the code before the fix.
 */
import { performance } from 'node:perf_hooks';
import {
  aName,
  aTwin,
  attach,
  expectStatus,
  Fixtures,
  type Party,
  PUBLIC,
  resolve,
} from './support/factories.js';
import { expectErrorShape, type HttpResponse, TestApi } from './support/test-app.js';
import { isolatedConfig } from './support/test-env.js';

/** A loaded shared machine starts apps slowly; the default 5 s would fail on that, not on the code. */
const LONG = 120_000;

/** A lone high surrogate: legal in JSON text, not storable as UTF-8. */
const LONE = '\ud800';

describe('hostile tenant: rules cannot be a denial of service (point 1)', () => {
  let api: TestApi;
  let fx: Fixtures;
  let victim: Party;
  let victimTwin: string;
  let victimName: string;

  /** A description as large as the 64 KiB body allows: two equal, distinct 32 KB strings (64 KB in all). */
  const BIG = 'ab'.repeat(16_000);
  /** A legal 1.7 KB rule that compares the two ~85 times (one step per node, before the fix). */
  const HOSTILE_RULE = Array.from({ length: 85 }, () => 'TWIN.d < TWIN.e').join(' or ');

  /** Wall time of one request, in ms. */
  async function timed(request: () => Promise<HttpResponse>): Promise<[number, HttpResponse]> {
    const t0 = performance.now();
    const res = await request();
    return [performance.now() - t0, res];
  }

  beforeAll(async () => {
    api = await TestApi.start();
    fx = await Fixtures.connect(api);
    victim = await api.createAccount('victim');
    victimTwin = (await aTwin(api, victim)).uuid;
    victimName = aName();
    await attach(api, victim, victimTwin, { [victimName]: { visibility: null } });
    expect(HOSTILE_RULE.length).toBeLessThanOrEqual(2048);
  }, LONG);
  afterAll(() => api?.stop());

  it(
    'an identity_rule over a 64 KB description in a batch resolve does not stall another tenant',
    async () => {
      const admin = await api.createAccount('attacker');
      const attacker = await fx.aUser(admin, { identityRule: HOSTILE_RULE });
      const twin = await aTwin(api, admin, { d: BIG, e: BIG });
      const names = Array.from({ length: 100 }, () => aName());
      await attach(api, admin, twin.uuid, Object.fromEntries(names.map((n) => [n, { visibility: null }])));
      // Warm both paths (caches, prepared statements) so that only rule work is measured.
      await api.post('/resolve', { secret: attacker.secret, body: { identities: names.slice(0, 2) } });
      await resolve(api, victim, victimName);

      const figures: number[] = [];
      let attackMs = 0;
      for (let trial = 0; trial < 5; trial++) {
        const attack = timed(() =>
          api.post('/resolve', { secret: attacker.secret, body: { identities: names } }),
        );
        // Sent right behind the attack, so it waits for whatever the attack blocks.
        const [victimMs, res] = await timed(() =>
          api.get(`/resolve/${encodeURIComponent(victimName)}`, { secret: victim.secret }),
        );
        expectStatus(res, 200);
        expect(res.body.twins).toEqual([victimTwin]);
        const [ms, attacked] = await attack;
        expectStatus(attacked, 200);
        // Fail closed: the rule could not finish within its ceiling, so the attacker sees none of its own rows.
        expect(Object.values(attacked.body.results).every((r: any) => r.twins.length === 0)).toBe(true);
        figures.push(victimMs);
        attackMs = Math.max(attackMs, ms);
      }
      console.log(
        `rule DoS (identity_rule, batch of 100): victim latency ${figures.map((f) => f.toFixed(1)).join(', ')} ms; attacker request up to ${attackMs.toFixed(0)} ms`,
      );
      // Generous for a loaded shared machine; before the fix every trial waited seconds.
      // The median, bounded generously: a busy CI machine adds tens of ms to any request, while before the fix the
      // median trial waited seconds (the best of them could still be quick, so the minimum proves nothing).
      expect(median(figures)).toBeLessThan(1000);
    },
    LONG,
  );

  it(
    'a public visibility rule over a 64 KB description does not slow other tenants’ context=system resolves',
    async () => {
      const attacker = await api.createAccount('attacker-2');
      // The attacker puts the victim's identity name, with a costly public rule, on 20 of its own big twins.
      for (let i = 0; i < 20; i++) {
        const twin = await aTwin(api, attacker, { d: BIG, e: BIG });
        await attach(api, attacker, twin.uuid, { [victimName]: { visibility: HOSTILE_RULE } });
      }
      await resolve(api, victim, victimName, { context: 'system' });
      const figures: number[] = [];
      for (let trial = 0; trial < 3; trial++) {
        const [ms, res] = await timed(() =>
          api.get(`/resolve/${encodeURIComponent(victimName)}`, {
            secret: victim.secret,
            query: { context: 'system' },
          }),
        );
        expectStatus(res, 200);
        expect(res.body.twins).toEqual([victimTwin]);
        figures.push(ms);
      }
      console.log(
        `rule DoS (public visibility rule on 20 twins): victim context=system latency ${figures.map((f) => f.toFixed(1)).join(', ')} ms`,
      );
      // The median, bounded generously: a busy CI machine adds tens of ms to any request, while before the fix the
      // median trial waited seconds (the best of them could still be quick, so the minimum proves nothing).
      expect(median(figures)).toBeLessThan(1000);
    },
    LONG,
  );
});

describe('hostile tenant: bad text (point 8)', () => {
  let api: TestApi;
  let admin: Party;

  beforeAll(async () => {
    api = await TestApi.start();
    admin = await api.createAccount('victim-of-text');
  }, LONG);
  afterAll(() => api?.stop());

  it(
    'answers 400 for a lone surrogate on every write endpoint and stores nothing',
    async () => {
      const twin = await aTwin(api, admin, { label: 'ok' });
      const role = await api.post('/roles', {
        secret: admin.secret,
        body: { name: 'plain', statement: { effect: 'allow', actions: ['get_twin'] } },
      });
      expectStatus(role, 201);
      const user = await api.post('/users', {
        secret: admin.secret,
        body: { name: 'plain-user', role: role.body.uuid },
      });
      expectStatus(user, 201);
      const name = aName();
      const attempts: [string, () => Promise<HttpResponse>][] = [
        [
          'create twin description',
          () => api.post('/twins', { secret: admin.secret, body: { description: { label: `x${LONE}` } } }),
        ],
        [
          'create twin description key',
          () => api.post('/twins', { secret: admin.secret, body: { description: { [`k${LONE}`]: 1 } } }),
        ],
        [
          'update twin description',
          () =>
            api.patch(`/twins/${twin.uuid}`, {
              secret: admin.secret,
              body: { description: { nested: [{ v: LONE }] } },
            }),
        ],
        [
          'identity visibility rule',
          () =>
            api.post(`/twins/${twin.uuid}/identities`, {
              secret: admin.secret,
              body: { identities: { [name]: { visibility: `"${LONE}" == account` } } },
            }),
        ],
        ['role name', () => api.post('/roles', { secret: admin.secret, body: { name: `r${LONE}` } })],
        [
          'role rule',
          () =>
            api.post('/roles', {
              secret: admin.secret,
              body: { name: 'r2', rules: { twin_rule: `"${LONE}" in TWIN` } },
            }),
        ],
        [
          'update role',
          () => api.patch(`/roles/${role.body.uuid}`, { secret: admin.secret, body: { name: LONE } }),
        ],
        [
          'user name',
          () =>
            api.post('/users', { secret: admin.secret, body: { name: `u${LONE}`, role: role.body.uuid } }),
        ],
        [
          'user description',
          () =>
            api.post('/users', {
              secret: admin.secret,
              body: { name: 'u2', role: role.body.uuid, description: { a: LONE } },
            }),
        ],
        [
          'update user',
          () =>
            api.patch(`/users/${user.body.uuid}`, {
              secret: admin.secret,
              body: { description: { a: `\udfff` } },
            }),
        ],
        [
          'account name',
          () => api.patch('/account', { secret: admin.secret, body: { name: `acme${LONE}` } }),
        ],
        [
          'permission name',
          () =>
            api.post('/permissions', {
              secret: admin.secret,
              body: { name: `p${LONE}`, operations: ['get_twin'] },
            }),
        ],
        [
          'permission operations',
          () =>
            api.post('/permissions', {
              secret: admin.secret,
              body: { name: 'p', operations: [`get_twin${LONE}`] },
            }),
        ],
        [
          'sync source name',
          () =>
            api.post('/sync/sources', {
              secret: admin.secret,
              body: { name: `s${LONE}`, base_url: 'https://example.com', secret: 'x' },
            }),
        ],
      ];
      const failures: string[] = [];
      for (const [what, attempt] of attempts) {
        const res = await attempt();
        if (res.status !== 400) failures.push(`${what}: ${res.status} ${res.text}`);
        else expectErrorShape(res, 400);
      }
      expect(failures).toEqual([]);
      // Nothing was changed by any of them.
      const after = await api.get(`/twins/${twin.uuid}`, { secret: admin.secret });
      expect(after.body.description).toEqual({ label: 'ok' });
      const identities = await api.get(`/twins/${twin.uuid}/identities`, { secret: admin.secret });
      expect(JSON.stringify(identities.body)).not.toContain(name);
    },
    LONG,
  );
});

describe('hostile tenant: twin sharing is the operator’s choice (point 9)', () => {
  /** B's twin with a public identity, seen by a user of A whose role's twin_rule is `true`. */
  async function scenario(api: TestApi) {
    const fx = await Fixtures.connect(api);
    const a = await api.createAccount('curious');
    const b = await api.createAccount('private');
    const reader = await fx.aUser(a, { twinRule: 'true' });
    const twin = await aTwin(api, b, { secret_plan: 'launch' });
    const name = aName();
    await attach(api, b, twin.uuid, { [name]: { visibility: PUBLIC } });
    return { reader, twin, name };
  }

  it(
    'open (the default): a twin_rule may see another account’s twin',
    async () => {
      const api = await TestApi.start();
      try {
        const { reader, twin, name } = await scenario(api);
        expect((await api.get(`/twins/${twin.uuid}`, { secret: reader.secret })).status).toBe(200);
        expect(await resolve(api, reader, name, { context: 'system', details: 'true' })).toHaveLength(1);
      } finally {
        await api.stop();
      }
    },
    LONG,
  );

  it(
    'closed: foreign twins are never visible, identities still resolve per their rules',
    async () => {
      const api = await TestApi.start(isolatedConfig({ TWIN_SHARING: 'closed' }));
      try {
        const { reader, twin, name } = await scenario(api);
        const direct = await api.get(`/twins/${twin.uuid}`, { secret: reader.secret });
        expectErrorShape(direct, 404, 'not_found');
        expect(await resolve(api, reader, name, { context: 'system' })).toEqual([twin.uuid]);
        expect(await resolve(api, reader, name, { context: 'system', details: 'true' })).toEqual([]);
        const scan = await api.get('/twins', { secret: reader.secret, query: { details: 'true' } });
        expectStatus(scan, 200);
        expect(JSON.stringify(scan.body)).not.toContain(twin.uuid);
        const listing = await api.get(`/twins/${twin.uuid}/identities`, { secret: reader.secret });
        expect(listing.status).toBe(404);
      } finally {
        await api.stop();
      }
    },
    LONG,
  );
});

describe('hostile tenant: no privilege escalation through user management (point 6)', () => {
  let api: TestApi;
  let fx: Fixtures;
  let admin: Party;
  let manager: Party;
  const MANAGER_ACTIONS = [
    'create_user_role',
    'update_user_role',
    'get_user_roles',
    'create_user',
    'update_user',
    'get_users',
    'create_user_secret_pin',
    'create_permission',
    'update_permission',
    'assign_permission',
    'get_twin',
    'who_am_i',
  ];

  /** The PIN route: `POST /users/{user}/secrets` (Trusted Twin) where it exists, else the older `/secrets/pin`. */
  async function createPin(secret: string, user: string): Promise<HttpResponse> {
    const res = await api.post(`/users/${user}/secrets`, { secret });
    if (res.status === 404 && res.body?.description === 'No such endpoint')
      return api.post(`/users/${user}/secrets/pin`, { secret });
    return res;
  }

  beforeAll(async () => {
    api = await TestApi.start();
    fx = await Fixtures.connect(api);
    admin = await api.createAccount('escalation');
    manager = await fx.aUser(admin, { effect: 'allow', actions: MANAGER_ACTIONS });
  }, LONG);
  afterAll(() => api?.stop());

  it(
    'refuses every path to an action the caller does not hold (403 naming it), and allows the legitimate ones',
    async () => {
      const s = manager.secret;
      const adminPermission = await api.post('/permissions', {
        secret: admin.secret,
        body: { name: 'deleter', operations: ['delete_user'] },
      });
      expectStatus(adminPermission, 201);
      const attempts: [string, () => Promise<HttpResponse>][] = [
        [
          'role without statement (deny nothing = every action)',
          () => api.post('/roles', { secret: s, body: { name: 'all' } }),
        ],
        [
          'deny role listing little',
          () =>
            api.post('/roles', {
              secret: s,
              body: { name: 'deny', statement: { effect: 'deny', actions: ['get_twin'] } },
            }),
        ],
        [
          'allow role with a missing action',
          () =>
            api.post('/roles', {
              secret: s,
              body: { name: 'more', statement: { effect: 'allow', actions: ['get_twin', 'delete_user'] } },
            }),
        ],
        [
          'own role widened',
          () =>
            api.patch(`/roles/${manager.role}`, {
              secret: s,
              body: { statement: { effect: 'allow', actions: [...MANAGER_ACTIONS, 'delete_user'] } },
            }),
        ],
        [
          'user created with the Admin role',
          () => api.post('/users', { secret: s, body: { name: 'sock-puppet', role: admin.role } }),
        ],
        [
          'self moved to the Admin role',
          () => api.patch(`/users/${manager.user}`, { secret: s, body: { role: admin.role } }),
        ],
        ['PIN for the Admin user', () => createPin(s, admin.user)],
        [
          'permission with a missing action',
          () => api.post('/permissions', { secret: s, body: { name: 'mine', operations: ['delete_user'] } }),
        ],
        [
          'admin’s permission assigned to self',
          () =>
            api.post(`/permissions/${adminPermission.body.id}/assignments`, {
              secret: s,
              body: { identityId: manager.user },
            }),
        ],
      ];
      const failures: string[] = [];
      for (const [what, attempt] of attempts) {
        const res = await attempt();
        if (
          res.status !== 403 ||
          res.body?.subcode !== 'forbidden' ||
          !/delete_user|create_twin|[a-z]+_[a-z_]+/.test(res.body?.description)
        )
          failures.push(`${what}: ${res.status} ${res.text}`);
      }
      expect(failures).toEqual([]);
      expect(
        (
          await api.post('/roles', {
            secret: s,
            body: { name: 'everything', statement: { effect: 'deny', actions: null } },
          })
        ).body.description,
      ).toMatch(/delete_user/);

      // Nothing changed: the manager holds exactly what it held.
      const whoami = await api.get('/whoami', { secret: s });
      expect([...whoami.body.actions].sort()).toEqual([...MANAGER_ACTIONS].sort());

      // Within its own actions it still manages users: a smaller role, a user with it, that user's PIN.
      const small = await api.post('/roles', {
        secret: s,
        body: { name: 'reader', statement: { effect: 'allow', actions: ['get_twin'] } },
      });
      expectStatus(small, 201);
      const user = await api.post('/users', { secret: s, body: { name: 'reader-1', role: small.body.uuid } });
      expectStatus(user, 201);
      expect((await createPin(s, user.body.uuid)).status).toBe(201);
      // Keeping an existing grant gives nobody anything new: renaming the own role with its statement is fine.
      const same = await api.patch(`/roles/${manager.role}`, {
        secret: s,
        body: { name: 'manager', statement: { effect: 'allow', actions: MANAGER_ACTIONS } },
      });
      expectStatus(same, 200);
      // The Admin holds everything and is never restricted.
      expectStatus(await createPin(admin.secret, manager.user), 201);
    },
    LONG,
  );
});

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
