import type { LoggerService } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../../../libs/access/principal.js';
import { allowedActions } from '../../../libs/domain/access/permission-evaluation.js';
import { unauthorized } from '../../../libs/domain/errors.js';
import type { Statement } from '../../../libs/domain/access/permission-evaluation.js';
import { isAdminPrincipal, queueDashboardGuard } from './queue-dashboard-access.js';

const principal = (roleName: string, statement: Statement, permissions: string[][] = []): Principal =>
  ({
    account: 'acc',
    roleName,
    statement,
    allowed: new Set(allowedActions(statement, permissions)),
  }) as unknown as Principal;

const ADMIN = principal('Admin', { effect: 'deny', actions: [] });

describe('isAdminPrincipal', () => {
  it('admits the built-in Admin (deny of nothing), also when its actions are stored as null', () => {
    expect(isAdminPrincipal(ADMIN)).toBe(true);
    expect(isAdminPrincipal(principal('Admin', { effect: 'deny', actions: null }))).toBe(true);
  });

  it('refuses other roles, even with every action allowed', () => {
    expect(isAdminPrincipal(principal('Operator', { effect: 'deny', actions: [] }))).toBe(false);
    expect(isAdminPrincipal(principal('admin', { effect: 'deny', actions: [] }))).toBe(false);
  });

  it('refuses a user role named "Admin" that is less than the built-in one', () => {
    expect(isAdminPrincipal(principal('Admin', { effect: 'deny', actions: ['get_log'] }))).toBe(false);
    expect(isAdminPrincipal(principal('Admin', { effect: 'allow', actions: ['who_am_i'] }))).toBe(false);
  });
});

describe('queueDashboardGuard', () => {
  const silent: LoggerService = { log() {}, error() {}, warn() {} };

  function fakeReply() {
    const sent: { status?: number; body?: string; headers: Record<string, string> } = { headers: {} };
    const reply = {
      status(code: number) {
        sent.status = code;
        return reply;
      },
      header(name: string, value: string) {
        sent.headers[name] = value;
        return reply;
      },
      send(body: string) {
        sent.body = body;
        return reply;
      },
    };
    return { reply: reply as unknown as FastifyReply, sent };
  }

  async function run(authenticate: (header: string | undefined) => Principal | Promise<Principal>) {
    const request = { id: 'trace-1', headers: { authorization: 'Bearer x' } } as unknown as FastifyRequest;
    const { reply, sent } = fakeReply();
    await queueDashboardGuard({ authenticate }, silent)(request, reply);
    return { request, sent, body: sent.body === undefined ? undefined : JSON.parse(sent.body) };
  }

  it('lets an Admin through without answering', async () => {
    const { request, sent } = await run(() => ADMIN);
    expect(sent.status).toBeUndefined();
    expect(request.principal).toBe(ADMIN);
  });

  it('answers 401 in the API error shape when the secret is missing or unknown', async () => {
    const { sent, body } = await run(() => Promise.reject(unauthorized()));
    expect(sent.status).toBe(401);
    expect(Object.keys(body).sort()).toEqual(['description', 'subcode', 'trace']);
    expect(body.trace).toBe('trace-1');
  });

  it('answers 403 for a non-Admin secret', async () => {
    const { sent, body } = await run(() => principal('ReadOnly', { effect: 'allow', actions: ['who_am_i'] }));
    expect(sent.status).toBe(403);
    expect(body.subcode).toBe('forbidden');
  });
});
