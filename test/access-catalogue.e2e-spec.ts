import { randomUUID } from 'node:crypto';
import { Controller, type ExecutionContext, Get, Post, RequestMethod } from '@nestjs/common';
import { MetadataScanner, ModulesContainer, Reflector } from '@nestjs/core';
import type { AuthService } from '../libs/access/auth.service.js';
import {
  ACTION_GROUPS,
  ACTIONS,
  type Action,
  type ActionGroup,
  isAction,
} from '../libs/domain/access/action-catalogue.js';
import { ACTION_KEY, Public, RequiresAction, type RouteAccess } from '../apps/api/http/action.decorator.js';
import { AuthGuard } from '../apps/api/http/auth.guard.js';
import { expectErrorShape, type HttpResponse, type TestAccount, TestApi } from './support/test-app.js';

/**
 * Table-driven over the whole action catalogue: for every action, a role allowing only that action may call its
 * endpoint, and a role denying only that action is refused with 403 naming it. Plus: every route declares access.
 */

interface Call {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  path: string;
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
}

// Ids that exist nowhere: an allowed call then ends in 404/400 after the guard, changing nothing.
const X = randomUUID();
const PM = 'pm-aaaaa-bbbbb-cccccccccccccc';
const AS = 'as-aaaaa-bbbbb-cccccccccccccc';
const ID = encodeURIComponent('RFID#catalogue-probe');
const NOTHING = { not_an_attribute: true };

/** One endpoint per action (docs/access.md), called so that it has no side effect once past the guard. */
const CALLS: Record<Action, Call> = {
  create_twin: { method: 'POST', path: '/twins', body: NOTHING },
  get_twin: { method: 'GET', path: `/twins/${X}` },
  scan_twins: { method: 'GET', path: '/twins' },
  update_twin: { method: 'PATCH', path: `/twins/${X}`, body: { description: {} } },
  terminate_twin: { method: 'DELETE', path: `/twins/${X}` },
  create_twin_identity: { method: 'POST', path: `/twins/${X}/identities`, body: NOTHING },
  get_twin_identity: { method: 'GET', path: `/twins/${X}/identities/${ID}` },
  update_twin_identity: { method: 'PATCH', path: `/twins/${X}/identities/${ID}`, body: {} },
  delete_twin_identity: { method: 'DELETE', path: `/twins/${X}/identities/${ID}` },
  get_twin_identities: { method: 'GET', path: `/twins/${X}/identities` },
  resolve_twin_identity: { method: 'GET', path: `/resolve/${ID}` },
  get_account: { method: 'GET', path: '/account' },
  update_account: { method: 'PATCH', path: '/account', body: NOTHING },
  create_user_role: { method: 'POST', path: '/roles', body: NOTHING },
  get_user_role: { method: 'GET', path: `/roles/${X}` },
  get_user_roles: { method: 'GET', path: '/roles' },
  update_user_role: { method: 'PATCH', path: `/roles/${X}`, body: {} },
  delete_user_role: { method: 'DELETE', path: `/roles/${X}` },
  create_user: { method: 'POST', path: '/users', body: NOTHING },
  get_user: { method: 'GET', path: `/users/${X}` },
  get_users: { method: 'GET', path: '/users' },
  update_user: { method: 'PATCH', path: `/users/${X}`, body: {} },
  delete_user: { method: 'DELETE', path: `/users/${X}` },
  create_user_secret_pin: { method: 'POST', path: `/users/${X}/secrets/pin` },
  get_user_secret: { method: 'GET', path: `/users/${X}/secrets` },
  update_user_secret: {
    method: 'PATCH',
    path: `/users/${X}/secrets/twx_abcdEFGH`,
    body: { validity_ts: null },
  },
  delete_user_secret: { method: 'DELETE', path: `/users/${X}/secrets/twx_abcdEFGH` },
  create_user_token: { method: 'POST', path: '/token', body: NOTHING },
  refresh_user_token: { method: 'POST', path: '/token/refresh', body: NOTHING },
  create_permission: { method: 'POST', path: '/permissions', body: NOTHING },
  get_permission: { method: 'GET', path: `/permissions/${PM}` },
  get_permissions: { method: 'GET', path: '/permissions' },
  update_permission: { method: 'PUT', path: `/permissions/${PM}`, body: {} },
  archive_permission: { method: 'PUT', path: `/permissions/${PM}/archive`, body: { isArchived: true } },
  assign_permission: { method: 'POST', path: `/permissions/${PM}/assignments`, body: { identityId: X } },
  revoke_permission: { method: 'DELETE', path: `/permissions/${PM}/assignments/${AS}` },
  get_permission_assignments: { method: 'GET', path: `/permissions/${PM}/assignments` },
  create_sync_source: { method: 'POST', path: '/sync/sources', body: NOTHING },
  get_sync_source: { method: 'GET', path: `/sync/sources/${X}` },
  get_sync_sources: { method: 'GET', path: '/sync/sources' },
  update_sync_source: { method: 'PATCH', path: `/sync/sources/${X}`, body: {} },
  delete_sync_source: { method: 'DELETE', path: `/sync/sources/${X}` },
  start_sync: { method: 'POST', path: `/sync/sources/${X}/runs`, body: { mode: 'full' } },
  get_sync_runs: { method: 'GET', path: '/sync/runs' },
  create_import: {
    method: 'POST',
    path: '/imports',
    raw: '',
    headers: { 'content-type': 'application/x-ndjson' },
  },
  get_import: { method: 'GET', path: `/imports/${X}` },
  get_imports: { method: 'GET', path: '/imports' },
  get_log: { method: 'GET', path: '/log' },
  who_am_i: { method: 'GET', path: '/whoami' },
  explain_resolution: { method: 'POST', path: '/resolve/explain', body: NOTHING },
  webhook_subscribe: { method: 'POST', path: '/notifications/webhooks', body: NOTHING },
  get_notifications_access: { method: 'GET', path: '/notifications/webhooks/access' },
  update_notifications_account_access: {
    method: 'PATCH',
    path: `/notifications/webhooks/access/accounts/${X}`,
    body: NOTHING,
  },
  update_notification_topic: { method: 'PUT', path: '/notifications/topics/catalogue-probe', body: NOTHING },
  get_notification_topics: { method: 'GET', path: '/notifications/topics' },
  delete_notification_topic: { method: 'DELETE', path: '/notifications/topics/catalogue-probe' },
  get_webhook_subscriptions: { method: 'GET', path: '/notifications/webhooks' },
};

/**
 * Groups whose endpoints other work items build. An action of these groups whose endpoint is not registered yet is
 * reported as `todo` (never as a pass); an action of any other group without an endpoint fails the suite.
 */
const BUILT_ELSEWHERE: readonly ActionGroup[] = ['twins', 'identities', 'sync', 'imports', 'log'];

const groupOf = (action: Action): ActionGroup =>
  (Object.keys(ACTION_GROUPS) as ActionGroup[]).find((g) =>
    (ACTION_GROUPS[g] as readonly string[]).includes(action),
  )!;

const send = (api: TestApi, call: Call, secret?: string): Promise<HttpResponse> =>
  api.request(call.method, call.path, { secret, body: call.body, raw: call.raw, headers: call.headers });

// The table must know, while jest collects tests, which endpoints exist; so the app starts at module level.
const api = await TestApi.start();
const missing = new Set<Action>();
for (const action of ACTIONS) {
  // Without a secret an existing route answers 401 from the guard; only the router answers 404.
  const res = await send(api, CALLS[action]);
  if (res.status === 404) missing.add(action);
}

afterAll(async () => {
  await api.stop();
});

describe('every action of the catalogue is allowed and denied as the role says', () => {
  let admin: TestAccount;
  const allowOnly = new Map<Action, string>();
  const denyOnly = new Map<Action, string>();

  async function secretWithStatement(effect: 'allow' | 'deny', action: Action): Promise<string> {
    const role = await api.post('/roles', {
      secret: admin.secret,
      body: { name: `${effect} one`, statement: { effect, actions: [action] } },
    });
    const user = await api.post('/users', {
      secret: admin.secret,
      body: { name: `${effect} ${action}`, role: role.body.uuid },
    });
    if (user.status !== 201) throw new Error(`no user for ${effect} ${action}: ${user.status} ${user.text}`);
    const pin = await api.post(`/users/${user.body.uuid}/secrets`, { secret: admin.secret });
    if (pin.status !== 201) throw new Error(`no PIN for ${effect} ${action}: ${pin.status} ${pin.text}`);
    const secret = await api.post(`/secrets/${admin.account}/${pin.body.pin}`);
    if (secret.status !== 201) throw new Error(`no secret for ${effect} ${action}: ${secret.text}`);
    return secret.body.secret;
  }

  beforeAll(async () => {
    admin = await api.createAccount('catalogue');
    await Promise.all(
      ACTIONS.filter((a) => !missing.has(a)).map(async (action) => {
        allowOnly.set(action, await secretWithStatement('allow', action));
        denyOnly.set(action, await secretWithStatement('deny', action));
      }),
    );
  });

  it('has a call for every action of the catalogue, and nothing else', () => {
    expect(Object.keys(CALLS).sort()).toEqual([...ACTIONS].sort());
  });

  it('leaves only actions of groups built elsewhere without an endpoint', () => {
    const unexpected = [...missing].filter((a) => !BUILT_ELSEWHERE.includes(groupOf(a)));
    expect(unexpected).toEqual([]);
  });

  for (const action of ACTIONS) {
    const call = CALLS[action];
    const route = `${call.method} ${call.path.replace(X, '{id}')}`;
    if (missing.has(action)) {
      it.todo(`${action} (${route}): endpoint not built yet, group '${groupOf(action)}'`);
      continue;
    }
    it(`${action}: a role allowing only ${action} passes the guard of ${route}`, async () => {
      const res = await send(api, call, allowOnly.get(action));
      expect({
        action,
        status: res.status,
        refused: [401, 403].includes(res.status) || res.status >= 500,
      }).toEqual({
        action,
        status: res.status,
        refused: false,
      });
    });
    it(`${action}: a role denying only ${action} gets 403 naming it at ${route}`, async () => {
      const res = await send(api, call, denyOnly.get(action));
      expectErrorShape(res, 403, 'forbidden');
      expect(res.body.description).toContain(`'${action}'`);
    });
  }
});

// ---- every route declares its access ---------------------------------------------------------------------------

type ControllerClass = abstract new (...args: never[]) => object;

interface DeclaredRoute {
  route: string;
  access: RouteAccess | undefined;
}

/** Every Nest route handler of the given controllers with the access rule the guard would read for it. */
function routesOf(controllers: ControllerClass[]): DeclaredRoute[] {
  const scanner = new MetadataScanner();
  const out: DeclaredRoute[] = [];
  for (const controller of controllers) {
    const base = [Reflect.getMetadata('path', controller) as string | string[] | undefined].flat()[0] ?? '';
    const proto = controller.prototype as Record<string, unknown>;
    for (const name of scanner.getAllMethodNames(proto)) {
      const handler = proto[name];
      if (typeof handler !== 'function') continue;
      const path = Reflect.getMetadata('path', handler) as string | string[] | undefined;
      if (path === undefined) continue;
      const method = RequestMethod[Reflect.getMetadata('method', handler) as RequestMethod];
      const access = new Reflector().getAllAndOverride<RouteAccess | undefined>(ACTION_KEY, [
        handler,
        controller,
      ]);
      const full = `/${[base, [path].flat()[0]].filter((p) => p && p !== '/').join('/')}`.replace(
        /\/+/g,
        '/',
      );
      out.push({ route: `${method} ${full}`, access });
    }
  }
  return out;
}

function registeredControllers(): ControllerClass[] {
  const controllers: ControllerClass[] = [];
  for (const module of api.app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      if (wrapper.metatype) controllers.push(wrapper.metatype as unknown as ControllerClass);
    }
  }
  return controllers;
}

describe('route declarations', () => {
  it('every registered Nest route declares an action, public, or its own credential', () => {
    const routes = routesOf(registeredControllers());
    expect(routes.length).toBeGreaterThanOrEqual(30);
    expect(routes.filter((r) => r.access === undefined).map((r) => r.route)).toEqual([]);
    const unknownActions = routes.filter((r) => r.access?.kind === 'action' && !isAction(r.access.action));
    expect(unknownActions.map((r) => r.route)).toEqual([]);
  });

  it('keeps the access endpoints public only where docs/access.md says so', () => {
    const open = routesOf(registeredControllers())
      .filter((r) => r.access?.kind !== 'action')
      .map((r) => `${r.route} ${r.access?.kind}`);
    expect(open).toEqual(expect.arrayContaining(['POST /secrets public', 'POST /accounts own-credential']));
    for (const route of open)
      expect(route).toMatch(
        /^(GET \/health\/|GET \/metrics|POST \/secrets |POST \/secrets\/:account\/:pin |POST \/accounts |POST \/sync\/sources\/:\w+\/webhook |(GET|PATCH|DELETE) \/notifications\/webhooks\/:account public)/,
      );
  });

  it('documents the access endpoints and their bodies in /docs', async () => {
    const doc = (await api.get('/docs/openapi.json')).body as {
      paths: Record<string, Record<string, { operationId?: string; requestBody?: unknown }>>;
    };
    const operations = Object.values(doc.paths).flatMap((methods) => Object.values(methods));
    const byId = new Map(operations.map((o) => [o.operationId, o]));
    for (const action of [
      'create_user_role',
      'update_user_role',
      'create_user',
      'update_user',
      'update_user_secret',
      'create_permission',
      'update_permission',
      'archive_permission',
      'assign_permission',
      'update_account',
      'create_user_secret_with_body',
      'create_account',
    ]) {
      expect({ action, body: byId.get(action)?.requestBody !== undefined }).toEqual({ action, body: true });
    }
    for (const action of [
      'get_user_roles',
      'get_users',
      'get_user_secret',
      'get_permissions',
      'who_am_i',
      'get_account',
    ]) {
      expect({ action, documented: byId.has(action) }).toEqual({ action, documented: true });
    }
  });

  it('would catch a route without a declaration, which the guard also keeps closed', async () => {
    @Controller('undeclared')
    class Undeclared {
      @Get()
      open(): string {
        return 'open';
      }
      @Post()
      @RequiresAction('who_am_i')
      declared(): string {
        return 'declared';
      }
    }
    @Controller('public')
    @Public()
    class WholeControllerPublic {
      @Get()
      open(): string {
        return 'open';
      }
    }
    const routes = routesOf([Undeclared, WholeControllerPublic]);
    expect(routes.filter((r) => r.access === undefined).map((r) => r.route)).toEqual(['GET /undeclared']);

    const auth = {} as AuthService;
    const guard = new AuthGuard(new Reflector(), auth);
    const context = {
      getHandler: () => Undeclared.prototype.open,
      getClass: () => Undeclared,
    } as unknown as ExecutionContext;
    await expect(guard.canActivate(context)).rejects.toMatchObject({ kind: 'forbidden' });
  });
});
