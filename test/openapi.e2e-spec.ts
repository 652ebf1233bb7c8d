import { validate } from '@readme/openapi-parser';
import { type NestFastifyApplication } from '@nestjs/platform-fastify';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { createApiApp } from '../apps/api/api-app.js';
import { isolatedConfig, removeRedisKeys } from './support/test-env.js';

/**
 * The document at /docs/openapi.json is the contract a client generator or Swagger UI works from (docs/README.md):
 * it must validate as OpenAPI 3.x, name every route the app serves, declare security on every authenticated
 * operation (or "Try it out" sends no Authorization), and give each operation a success body and its errors.
 */
describe('OpenAPI document', () => {
  const config = isolatedConfig();
  let app: NestFastifyApplication;
  let doc: any;
  const routes: Array<{ method: string; url: string }> = [];

  beforeAll(async () => {
    app = await createApiApp(config, { docsUi: false, queueDashboard: false });
    // Nest and the lean Fastify routes register on init: record what the server will actually answer.
    app
      .getHttpAdapter()
      .getInstance()
      .addHook('onRoute', (route) => {
        for (const method of [route.method].flat()) routes.push({ method, url: route.url });
      });
    await app.init();
    const res = await app.getHttpAdapter().getInstance().inject({ method: 'GET', url: '/docs/openapi.json' });
    expect(res.statusCode).toBe(200);
    doc = JSON.parse(res.body);
  });
  afterAll(async () => {
    await app.close();
    await removeRedisKeys(config);
  });

  const operations = () =>
    Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([m]) => ['get', 'put', 'post', 'patch', 'delete'].includes(m))
        .map(([method, op]) => ({ path, method, op })),
    );

  it('validates as OpenAPI 3.x', async () => {
    expect(doc.openapi).toMatch(/^3\./);
    const result = await validate(structuredClone(doc));
    expect(result.valid ? [] : result.errors.map((e) => e.message)).toEqual([]);
  });

  it('names every route the app serves (lean Fastify routes included)', () => {
    // Not part of the JSON API: the document itself, the Prometheus scrape and the operator's dashboard.
    const outside = /^\/(docs|metrics|queues)(\/|$|\.)/;
    const served = routes
      .filter((r) => r.method !== 'HEAD' && r.method !== 'OPTIONS' && !outside.test(r.url))
      .map((r) => `${r.method} ${r.url.replace(/:(\w+)/g, '{$1}')}`);
    const documented = operations().map((o) => `${o.method.toUpperCase()} ${o.path}`);
    expect(served.length).toBeGreaterThan(40);
    expect(served.filter((r) => !documented.includes(r))).toEqual([]);
    expect(served).toContain('GET /resolve/{identity}');
  });

  it('declares security on every operation that is not public, with schemes that exist', () => {
    const publicOps = new Set([
      'health_live',
      'health_ready',
      'create_user_secret',
      'create_user_secret_with_body',
      // The token in the URL is the credential (docs/notifications.md).
      'webhook_confirm_subscription',
      'webhook_refresh_subscription',
      'webhook_unsubscribe',
    ]);
    const schemes = Object.keys(doc.components.securitySchemes);
    for (const { op } of operations()) {
      if (publicOps.has(op.operationId)) {
        expect({ op: op.operationId, security: op.security ?? [] }).toEqual({
          op: op.operationId,
          security: [],
        });
        continue;
      }
      expect({ op: op.operationId, secured: (op.security ?? []).length > 0 }).toEqual({
        op: op.operationId,
        secured: true,
      });
      for (const requirement of op.security)
        for (const name of Object.keys(requirement)) expect(schemes).toContain(name);
    }
  });

  it('gives every operation a JSON success body and its error responses in the error shape', () => {
    const missing: string[] = [];
    for (const { path, op } of operations()) {
      const id = op.operationId as string;
      const codes = Object.keys(op.responses);
      const success = codes.filter((c) => /^2/.test(c));
      if (success.length !== 1 || !op.responses[success[0]].content?.['application/json']?.schema)
        missing.push(`${id}: success body`);
      const errors = codes.filter((c) => /^[45]/.test(c));
      const expected = path.startsWith('/health/')
        ? path === '/health/ready'
          ? ['503']
          : []
        : [
            '400',
            '503',
            ...((op.security ?? []).length > 0 ? ['401'] : []),
            // A JSON body sent as another media type is refused before it is read.
            ...(op.requestBody?.content?.['application/json'] ? ['415'] : []),
          ];
      for (const code of expected) if (!errors.includes(code)) missing.push(`${id}: ${code}`);
      for (const code of errors) {
        const r = op.responses[code];
        if (!r.headers?.['X-Request-Id']) missing.push(`${id}: ${code} X-Request-Id`);
        if (code === '503' && !r.headers?.['Retry-After'] && path !== '/health/ready')
          missing.push(`${id}: 503 Retry-After`);
        const ref = r.content?.['application/json']?.schema?.$ref;
        if (path !== '/health/ready' && ref !== '#/components/schemas/Error')
          missing.push(`${id}: ${code} shape`);
      }
    }
    expect(missing).toEqual([]);
    expect(doc.components.schemas.Error.required.sort()).toEqual(['description', 'subcode', 'trace']);
  });

  it('documents the headers: X-TrustedTwin, X-Webhook-Token, X-Request-Id, Retry-After', () => {
    const scan = operations().find((o) => o.op.operationId === 'scan_twins')!.op;
    const headers = scan.parameters.filter((p: any) => p.in === 'header').map((p: any) => p.name);
    expect(headers).toEqual(expect.arrayContaining(['X-TrustedTwin', 'X-Request-Id']));
    expect(doc.components.securitySchemes.webhook).toMatchObject({ in: 'header', name: 'X-Webhook-Token' });
    const webhook = operations().find((o) => o.op.operationId === 'sync_webhook')!.op;
    expect(webhook.security).toEqual([{ webhook: [] }]);
    expect(webhook.requestBody.content['application/json'].schema).toBeDefined();
  });

  it('types every parameter, so that "Try it out" offers a checkbox, a number or a list, not a free text box', () => {
    const untyped = operations().flatMap(({ path, method, op }) =>
      ((op.parameters ?? []) as any[])
        .filter((p) => typeof p.schema?.type !== 'string')
        .map((p) => `${method.toUpperCase()} ${path} ${p.in} ${p.name}`),
    );
    expect(untyped).toEqual([]);
    const scan = operations().find((o) => o.op.operationId === 'scan_twins')!.op;
    const query = (name: string) => scan.parameters.find((p: any) => p.in === 'query' && p.name === name);
    expect(query('details').schema).toMatchObject({ type: 'boolean' });
    expect(query('count').schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 1000, default: 100 });
  });

  it('writes security scheme descriptions the Authorize dialog displays (it renders them as HTML)', () => {
    const schemes = doc.components.securitySchemes as Record<string, { description?: string }>;
    const raw = Object.entries(schemes)
      .filter(([, s]) => /[<>]/.test(s.description ?? ''))
      .map(([name, s]) => `${name}: ${s.description}`);
    expect(raw).toEqual([]);
  });

  it('generates a typed client with a response type for every operation', async () => {
    const source = astToString(await openapiTS(structuredClone(doc)));
    const file = ts.createSourceFile('client.d.ts', source, ts.ScriptTarget.ES2022, true);
    // `export interface operations { <id>: { responses: { <2xx>: { content: { "application/json": T } } } } }`
    const opsInterface = file.statements.find(
      (s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === 'operations',
    );
    expect(opsInterface).toBeDefined();
    const typed = new Map<string, string>();
    for (const member of opsInterface!.members) {
      if (!ts.isPropertySignature(member) || !member.type) continue;
      const name = member.name.getText(file).replace(/^["']|["']$/g, '');
      const responses = propertyType(member.type, 'responses', file);
      const success = responses && successContent(responses, file);
      if (success) typed.set(name, success.getText(file));
    }
    const ids = operations().map((o) => o.op.operationId as string);
    expect(ids.filter((id) => !typed.has(id))).toEqual([]);
    for (const [id, type] of typed) expect({ id, type }).not.toEqual({ id, type: 'unknown' });
    expect(typed.get('get_twin')).toContain('Twin');
  });
});

function propertyType(node: ts.TypeNode, key: string, file: ts.SourceFile): ts.TypeNode | undefined {
  if (!ts.isTypeLiteralNode(node)) return undefined;
  for (const m of node.members) {
    if (ts.isPropertySignature(m) && m.type && m.name.getText(file).replace(/^["']|["']$/g, '') === key)
      return m.type;
  }
  return undefined;
}

function successContent(responses: ts.TypeNode, file: ts.SourceFile): ts.TypeNode | undefined {
  if (!ts.isTypeLiteralNode(responses)) return undefined;
  for (const m of responses.members) {
    if (!ts.isPropertySignature(m) || !m.type || !/^2\d\d$/.test(m.name.getText(file))) continue;
    const content = propertyType(m.type, 'content', file);
    return content && propertyType(content, 'application/json', file);
  }
  return undefined;
}
