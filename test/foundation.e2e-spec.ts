import { expectErrorShape, TestApi } from './support/test-app.js';

describe('foundation', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await TestApi.start();
  });
  afterAll(async () => {
    await api.stop();
  });

  it('reports live and ready when PostgreSQL and Redis are up and migrations applied', async () => {
    expect((await api.get('/health/live')).status).toBe(200);
    // Each check answers within 500 ms or counts as down (a probe must be quick); on a machine busy with other
    // suites the first checks after start can miss that, so the probe is asked again as Kubernetes would.
    let ready = await api.get('/health/ready');
    for (let tries = 1; ready.status !== 200 && tries < 20; tries++) {
      console.info(`ready answered ${ready.status} ${JSON.stringify(ready.body)}; asking again`);
      await new Promise((r) => setTimeout(r, 500));
      ready = await api.get('/health/ready');
    }
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({
      status: 'ok',
      checks: { postgres: { status: 'up' }, redis: { status: 'up' }, migrations: { status: 'up' } },
    });
  });

  it('keeps an incoming X-Request-Id or traceparent trace id as the trace, and refuses a forged one', async () => {
    const kept = await api.get('/nope', { headers: { 'x-request-id': 'gate-7.req-1' } });
    expect([kept.headers.get('x-request-id'), kept.body.trace]).toEqual(['gate-7.req-1', 'gate-7.req-1']);
    const traced = await api.get('/nope', {
      headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
    });
    expect(traced.body.trace).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    const forged = await api.get('/nope', { headers: { 'x-request-id': 'a","level":60' } });
    expect(forged.body.trace).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers an unknown route with the error shape and a request id', async () => {
    const res = await api.get('/nope');
    expectErrorShape(res, 404, 'not_found');
  });

  it('serves the OpenAPI document', async () => {
    const res = await api.get('/docs/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toMatch(/^3\./);
  });
});
