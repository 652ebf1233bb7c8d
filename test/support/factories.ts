/**
 * Test data builders for the twins, identities and resolve suites: parties (account + role + user + secret),
 * twins and identities — all created through the public API, as a client would.
 */
import { randomUUID } from 'node:crypto';
import type { HttpResponse, TestAccount, TestApi } from './test-app.js';

/** Someone calling the API: the secret plus the ids rules talk about. */
export type Party = TestAccount;

export interface RoleSpec {
  effect?: 'allow' | 'deny';
  /** With `effect: 'deny'` and `[]` (the default) every action is allowed, like the built-in Admin. */
  actions?: string[] | null;
  twinRule?: string | null;
  identityRule?: string | null;
  /** The user's description: USER in rules. */
  userDescription?: Record<string, unknown>;
}

/** Parties made over the access API, as an operator and administrators would. */
export class Fixtures {
  private constructor(readonly api: TestApi) {}

  static async connect(api: TestApi): Promise<Fixtures> {
    return new Fixtures(api);
  }

  async close(): Promise<void> {}

  /** A new account (operator endpoint): its Admin user's secret and ids. */
  async anAccount(name = 'acme'): Promise<Party> {
    return this.api.createAccount(name);
  }

  /**
   * Another user of `admin`'s account with a role of its own (statement and rules) and a fresh secret, made the way
   * an administrator does it: role, user, PIN, then the user's own PIN exchange.
   */
  async aUser(admin: Party, spec: RoleSpec = {}): Promise<Party> {
    const secret = admin.secret;
    const role = await this.api.post('/roles', {
      secret,
      body: {
        name: `Role ${randomUUID().slice(0, 8)}`,
        statement: { effect: spec.effect ?? 'deny', actions: spec.actions === undefined ? [] : spec.actions },
        rules: { twin_rule: spec.twinRule ?? null, identity_rule: spec.identityRule ?? null },
      },
    });
    expectStatus(role, 201);
    const user = await this.api.post('/users', {
      secret,
      body: {
        name: `user-${randomUUID().slice(0, 8)}`,
        role: role.body.uuid,
        description: spec.userDescription ?? {},
      },
    });
    expectStatus(user, 201);
    // The PIN flow on Trusted Twin's paths: the PIN names the user.
    const pin = await this.api.post(`/users/${user.body.uuid}/secrets`, { secret });
    expectStatus(pin, 201);
    const exchanged = await this.api.post(`/secrets/${admin.account}/${pin.body.pin}`);
    expectStatus(exchanged, 201);
    return {
      account: admin.account,
      user: user.body.uuid,
      role: role.body.uuid,
      secret: exchanged.body.secret,
    };
  }
}

// ---- twins and identities, over HTTP -------------------------------------------------------------------------

let nameCounter = 0;

/** A fresh valid identity name; unique per process so suites never collide. */
export function aName(scheme = 'RFID'): string {
  nameCounter += 1;
  return `${scheme}#${randomUUID().slice(0, 8)}-${nameCounter}`;
}

/** Identity attributes as the create body takes them; only what is given is sent. */
export function anIdentity(attributes: { visibility?: string | null; validity_ts?: number | null } = {}): {
  visibility?: string | null;
  validity_ts?: number | null;
} {
  return { ...attributes };
}

/** A public identity visible to everyone (`visibility: "true"`). */
export const PUBLIC = 'true';

export function pathOf(name: string): string {
  return encodeURIComponent(name);
}

export interface TwinBody {
  uuid: string;
  owner: string;
  status: 'alive' | 'terminated';
  description: Record<string, unknown>;
  updated_ts: number;
  creation_certificate: { uuid: string; creator: string; created_ts: number };
  termination_certificate?: { issuer: string; terminated_ts: number };
}

/** Creates a twin as `party`; fails the test unless it is created. */
export async function aTwin(
  api: TestApi,
  party: Party,
  description?: Record<string, unknown>,
): Promise<TwinBody> {
  const res = await api.post<TwinBody>('/twins', {
    secret: party.secret,
    body: description === undefined ? {} : { description },
  });
  expectStatus(res, 201);
  return res.body;
}

/** Attaches identities to a twin as `party`; fails the test unless they are all created. */
export async function attach(
  api: TestApi,
  party: Party,
  twin: string,
  identities: Record<string, ReturnType<typeof anIdentity>>,
): Promise<void> {
  const res = await api.post(`/twins/${twin}/identities`, { secret: party.secret, body: { identities } });
  expectStatus(res, 201);
}

export async function terminate(api: TestApi, party: Party, twin: string): Promise<TwinBody> {
  const res = await api.delete<TwinBody>(`/twins/${twin}`, { secret: party.secret });
  expectStatus(res, 200);
  return res.body;
}

/** GET /resolve as `party`; returns the `twins` of a 200 (anything else fails the test). */
export async function resolve(
  api: TestApi,
  party: Party,
  name: string,
  query: Record<string, string | string[] | undefined> = {},
  headers: Record<string, string> = {},
): Promise<unknown[]> {
  const res = await api.get<{ twins: unknown[] }>(`/resolve/${pathOf(name)}`, {
    secret: party.secret,
    query,
    headers,
  });
  expectStatus(res, 200);
  return res.body.twins;
}

/** Fails with the response text, which a bare status comparison would hide. */
export function expectStatus(res: HttpResponse, status: number): void {
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${res.text}`);
}

/** The X-TrustedTwin header as Trusted Twin clients send it: base64 of the JSON. */
export function trustedTwinHeader(dict: Record<string, unknown>): Record<string, string> {
  return { 'x-trustedtwin': Buffer.from(JSON.stringify(dict), 'utf8').toString('base64') };
}
