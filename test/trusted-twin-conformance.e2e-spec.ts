import { randomUUID } from 'node:crypto';
import { expectErrorShape, type HttpResponse, type TestAccount, TestApi } from './support/test-app.js';

/**
 * Conformance with the official Trusted Twin client (`trustedtwin` `TTRESTService`): one row per client operation
 * Twindex implements, in the order a session would call them. Each row is the request as the client sends it —
 * `Content-Type: application/json` on every call (an empty body on bodiless ones), `%23`-encoded identity names,
 * query booleans as Python writes them (`True`/`False`), `context` repeated or comma-joined, `X-TrustedTwin` as base64
 * JSON — and the status plus every attribute Trusted Twin documents for the answer, with its type. Hold it against
 * the operation pages of the Trusted Twin reference (docs/reference/...); Twindex's extras are not checked here.
 */

type Kind =
  | 'string'
  | 'uuid'
  | 'number'
  | 'number|null'
  | 'string|null'
  | 'object'
  | 'object|null'
  | 'array'
  | 'boolean';
type Shape = Record<string, Kind>;

interface Session {
  admin: TestAccount;
  other: TestAccount;
  role: string;
  user: string;
  pin: string;
  userSecret: string;
  token: string;
  twin: string;
  name: string;
}

interface Row {
  operation: string;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: (s: Session) => string;
  query?: (s: Session) => Record<string, string | string[]>;
  /** Absent: the client sends no body (an empty one, with the JSON content type). */
  body?: (s: Session) => unknown;
  /** Authorization; absent for public operations. Defaults to the admin's secret. */
  auth?: (s: Session) => string | undefined;
  headers?: (s: Session) => Record<string, string>;
  status: number;
  shape: Shape;
  /** Nested shapes, by attribute path, and whatever the session must remember. */
  then?: (body: any, s: Session) => void;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const enc = (name: string) => name.replace(/#/g, '%23');
const b64 = (dict: unknown) => Buffer.from(JSON.stringify(dict), 'utf8').toString('base64');

const TWIN: Shape = {
  uuid: 'uuid',
  owner: 'uuid',
  status: 'string',
  description: 'object',
  updated_ts: 'number',
  creation_certificate: 'object',
};
const ROLE: Shape = {
  uuid: 'uuid',
  account: 'uuid',
  name: 'string',
  statement: 'object',
  rules: 'object',
  created_ts: 'number',
  updated_ts: 'number',
};
const USER: Shape = {
  uuid: 'uuid',
  account: 'uuid',
  name: 'string',
  role: 'uuid',
  description: 'object',
  activity: 'object|null',
  status: 'string',
  created_ts: 'number',
  updated_ts: 'number',
};
const IDENTITY: Shape = {
  visibility: 'string|null',
  validity_ts: 'number|null',
  created_ts: 'number',
  updated_ts: 'number',
};
const SECRET: Shape = {
  account: 'uuid',
  user: 'uuid',
  fingerprint: 'string',
  validity_ts: 'number|null',
  created_ts: 'number',
  updated_ts: 'number',
};

function expectShape(value: any, shape: Shape, where: string): void {
  expect({ where, isObject: value !== null && typeof value === 'object' && !Array.isArray(value) }).toEqual({
    where,
    isObject: true,
  });
  for (const [attribute, kind] of Object.entries(shape)) {
    const v = value[attribute];
    const ok =
      kind === 'uuid'
        ? typeof v === 'string' && UUID.test(v)
        : kind === 'array'
          ? Array.isArray(v)
          : kind === 'object'
            ? v !== null && typeof v === 'object' && !Array.isArray(v)
            : kind === 'object|null'
              ? v === null || (typeof v === 'object' && !Array.isArray(v))
              : kind === 'number|null'
                ? v === null || typeof v === 'number'
                : kind === 'string|null'
                  ? v === null || typeof v === 'string'
                  : typeof v === kind;
    expect({ where: `${where}.${attribute}`, kind, value: ok ? 'ok' : v }).toEqual({
      where: `${where}.${attribute}`,
      kind,
      value: 'ok',
    });
  }
}

const ROWS: Row[] = [
  {
    operation: 'who_am_i',
    method: 'GET',
    path: () => '/whoami',
    status: 200,
    shape: { account: 'uuid', user: 'uuid', role: 'uuid' },
  },
  {
    operation: 'get_account',
    method: 'GET',
    path: () => '/account',
    status: 200,
    shape: {
      uuid: 'uuid',
      name: 'string',
      resource_access_log: 'object',
      created_ts: 'number',
      updated_ts: 'number',
    },
  },
  {
    operation: 'update_account',
    method: 'PATCH',
    path: () => '/account',
    body: () => ({ resource_access_log: { 'twin_status == "alive"': { access_log: {} } } }),
    status: 200,
    shape: { uuid: 'uuid', resource_access_log: 'object', created_ts: 'number', updated_ts: 'number' },
    then: (b) => expect(Object.keys(b.resource_access_log)).toEqual(['twin_status == "alive"']),
  },
  {
    operation: 'create_user_role',
    method: 'POST',
    path: () => '/roles',
    body: () => ({
      name: 'Conformance',
      statement: {
        effect: 'allow',
        actions: ['who_am_i', 'resolve_twin_identity', 'create_user_token', 'refresh_user_token'],
      },
      rules: { twin_rule: null, entry_rule: 'true', identity_rule: null },
    }),
    status: 201,
    shape: ROLE,
    then: (b, s) => {
      expectShape(
        b.rules,
        { twin_rule: 'string|null', entry_rule: 'string|null', identity_rule: 'string|null' },
        'rules',
      );
      expect(b.rules.entry_rule).toBe('true');
      s.role = b.uuid;
    },
  },
  {
    operation: 'get_user_roles',
    method: 'GET',
    path: () => '/roles',
    status: 200,
    shape: { roles: 'object' },
    then: (b, s) => {
      expect(Array.isArray(b.roles)).toBe(false);
      expectShape(b.roles[s.role], ROLE, `roles.${s.role}`);
    },
  },
  { operation: 'get_user_role', method: 'GET', path: (s) => `/roles/${s.role}`, status: 200, shape: ROLE },
  {
    operation: 'update_user_role',
    method: 'PATCH',
    path: (s) => `/roles/${s.role}`,
    body: () => ({ rules: { entry_rule: 'false' } }),
    status: 200,
    shape: ROLE,
    then: (b) => expect(b.rules.entry_rule).toBe('false'),
  },
  {
    operation: 'create_user',
    method: 'POST',
    path: () => '/users',
    body: (s) => ({ name: 'Gate 7', role: s.role, description: { site: 'waw' }, activity: { log: true } }),
    status: 201,
    shape: USER,
    then: (b, s) => {
      expect(b.activity).toEqual({ log: true });
      s.user = b.uuid;
    },
  },
  {
    operation: 'get_users',
    method: 'GET',
    path: () => '/users',
    status: 200,
    shape: { users: 'object' },
    then: (b, s) => expectShape(b.users[s.user], USER, `users.${s.user}`),
  },
  { operation: 'get_user', method: 'GET', path: (s) => `/users/${s.user}`, status: 200, shape: USER },
  {
    operation: 'update_user',
    method: 'PATCH',
    path: (s) => `/users/${s.user}`,
    body: () => ({ description: { site: 'krk' } }),
    status: 200,
    shape: USER,
  },
  {
    operation: 'create_user_secret_pin',
    method: 'POST',
    path: (s) => `/users/${s.user}/secrets`,
    status: 201,
    shape: { pin: 'string', pin_validity_ts: 'number' },
    then: (b, s) => {
      expect(b.pin).toMatch(/^[A-Z0-9]{6}$/);
      s.pin = b.pin;
    },
  },
  {
    operation: 'create_user_secret',
    method: 'POST',
    path: (s) => `/secrets/${s.admin.account}/${s.pin}`,
    auth: () => undefined,
    status: 201,
    shape: { ...SECRET, secret: 'string' },
    then: (b, s) => {
      expect(b.user).toBe(s.user);
      s.userSecret = b.secret;
    },
  },
  {
    operation: 'get_user_secret',
    method: 'GET',
    path: (s) => `/users/${s.user}/secrets`,
    status: 200,
    shape: SECRET,
  },
  {
    operation: 'update_user_secret',
    method: 'PATCH',
    path: (s) => `/users/${s.user}/secrets`,
    body: () => ({ validity_ts: null }),
    status: 200,
    shape: SECRET,
  },
  {
    operation: 'create_user_token',
    method: 'POST',
    path: () => '/token',
    auth: (s) => s.userSecret,
    body: () => ({ secret_dict: { site: 'waw' }, options: ['refresh'], validity_ts: null }),
    status: 201,
    shape: { token: 'string', options: 'array', validity_ts: 'number' },
    then: (b, s) => {
      s.token = b.token;
    },
  },
  {
    operation: 'refresh_user_token',
    method: 'POST',
    path: () => '/token/refresh',
    auth: (s) => s.token,
    status: 201,
    shape: { token: 'string', validity_ts: 'number' },
  },
  {
    operation: 'create_twin',
    method: 'POST',
    path: () => '/twins',
    status: 201,
    shape: TWIN,
    then: (b, s) => {
      s.twin = b.uuid;
    },
  },
  {
    operation: 'get_twin',
    method: 'GET',
    path: (s) => `/twins/${s.twin}`,
    query: () => ({ show_terminated: 'False' }),
    status: 200,
    shape: TWIN,
  },
  {
    operation: 'update_twin',
    method: 'PATCH',
    path: (s) => `/twins/${s.twin}`,
    body: () => ({ description: { kind: 'pallet' } }),
    status: 200,
    shape: TWIN,
  },
  {
    operation: 'scan_twins',
    method: 'GET',
    path: () => '/twins',
    query: () => ({ details: 'True', count: '10' }),
    status: 200,
    shape: { twins: 'array' },
  },
  {
    operation: 'create_twin_identity',
    method: 'POST',
    path: (s) => `/twins/${s.twin}/identities`,
    body: (s) => ({ identities: { [s.name]: { visibility: 'DICT.site == "waw"', validity_ts: null } } }),
    status: 201,
    shape: { identities: 'object' },
    then: (b, s) => expectShape(b.identities[s.name], IDENTITY, 'identity'),
  },
  {
    operation: 'get_twin_identities',
    method: 'GET',
    path: (s) => `/twins/${s.twin}/identities`,
    query: () => ({ show_foreign: 'False', show_personal: 'True', show_expired: 'False' }),
    status: 200,
    shape: { accounts: 'object' },
    then: (b, s) => expectShape(b.accounts[s.admin.account][s.name], IDENTITY, 'identity'),
  },
  {
    operation: 'get_twin_identity',
    method: 'GET',
    path: (s) => `/twins/${s.twin}/identities/${enc(s.name)}`,
    status: 200,
    shape: { ...IDENTITY, creation_certificate: 'object' },
  },
  {
    operation: 'update_twin_identity',
    method: 'PATCH',
    path: (s) => `/twins/${s.twin}/identities/${enc(s.name)}`,
    body: () => ({ validity_ts: null }),
    status: 200,
    shape: IDENTITY,
  },
  {
    operation: 'resolve_twin_identity (context repeated, X-TrustedTwin base64)',
    method: 'GET',
    path: (s) => `/resolve/${enc(s.name)}`,
    auth: (s) => s.other.secret,
    query: (s) => ({ context: [s.admin.account, s.other.account], details: 'False' }),
    headers: () => ({ 'x-trustedtwin': b64({ site: 'waw' }) }),
    status: 200,
    shape: { twins: 'array' },
    then: (b, s) => expect(b.twins).toEqual([s.twin]),
  },
  {
    operation: 'resolve_twin_identity (context comma-joined, details True)',
    method: 'GET',
    path: (s) => `/resolve/${enc(s.name)}`,

    query: (s) => ({ context: `${s.admin.account},${s.other.account}`, details: 'True' }),
    headers: () => ({ 'x-trustedtwin': b64({ site: 'waw' }) }),
    status: 200,
    shape: { twins: 'array' },
    then: (b) => expectShape(b.twins[0], TWIN, 'twins[0]'),
  },
  {
    operation: 'delete_twin_identity',
    method: 'DELETE',
    path: (s) => `/twins/${s.twin}/identities/${enc(s.name)}`,
    status: 200,
    shape: IDENTITY,
  },
  {
    operation: 'terminate_twin',
    method: 'DELETE',
    path: (s) => `/twins/${s.twin}`,
    status: 200,
    shape: { ...TWIN, termination_certificate: 'object' },
  },
  {
    operation: 'get_log',
    method: 'GET',
    path: () => '/log',
    status: 200,
    shape: { fragment: 'string|null', messages: 'array' },
    then: (b) => expect(b.messages.every((m: unknown) => typeof m === 'string')).toBe(true),
  },
  {
    operation: 'delete_user_secret',
    method: 'DELETE',
    path: (s) => `/users/${s.user}/secrets`,
    status: 200,
    shape: SECRET,
  },
  { operation: 'delete_user', method: 'DELETE', path: (s) => `/users/${s.user}`, status: 200, shape: USER },
  {
    operation: 'delete_user_role',
    method: 'DELETE',
    path: (s) => `/roles/${s.role}`,
    status: 200,
    shape: ROLE,
  },
];

describe('Trusted Twin client conformance', () => {
  let api: TestApi;
  const session = {} as Session;

  beforeAll(async () => {
    api = await TestApi.start();
    session.admin = await api.createAccount('conformance');
    session.other = await api.createAccount('reader');
    session.name = `RFID#${randomUUID()}`;
  });
  afterAll(async () => {
    await api.stop();
  });

  function send(row: Row): Promise<HttpResponse> {
    const s = session;
    const secret = row.auth ? row.auth(s) : s.admin.secret;
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      ...(row.headers?.(s) ?? {}),
    };
    const body = row.body?.(s);
    // The client sends a JSON body where it has one and an empty one (Content-Length: 0) otherwise; GETs send none.
    const raw = body !== undefined ? JSON.stringify(body) : row.method === 'GET' ? undefined : '';
    return api.request(row.method, row.path(s), { secret, headers, query: row.query?.(s), raw });
  }

  it.each(ROWS.map((r) => [r.operation, r] as const))('%s', async (_operation, row) => {
    const res = await send(row);
    if (res.status !== row.status)
      throw new Error(`${row.operation}: expected ${row.status}, got ${res.status}: ${res.text}`);
    expectShape(res.body, row.shape, row.operation);
    row.then?.(res.body, session);
  });

  it('answers a second terminate_twin with its real error, not a body error', async () => {
    const res = await api.request('DELETE', `/twins/${session.twin}`, {
      secret: session.admin.secret,
      headers: { 'content-type': 'application/json' },
      raw: '',
    });
    expectErrorShape(res, 400, 'idempotency_violation');
  });

  it('answers get_twin with show_terminated=False for a terminated twin with 404', async () => {
    expectErrorShape(
      await api.get(`/twins/${session.twin}`, {
        secret: session.admin.secret,
        query: { show_terminated: 'False' },
      }),
      404,
      'not_found',
    );
    expect(
      (
        await api.get(`/twins/${session.twin}`, {
          secret: session.admin.secret,
          query: { show_terminated: 'True' },
        })
      ).status,
    ).toBe(200);
  });
});
