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
    const ready = await api.get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('ok');
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
