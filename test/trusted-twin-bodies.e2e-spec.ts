import { randomUUID } from 'node:crypto';
import { expectStatus } from './support/factories.js';
import { expectErrorShape, type TestAccount, TestApi } from './support/test-app.js';

/**
 * docs/http.md "Requests": `Content-Type: application/json` with `Content-Length: 0`
 * on every call, DELETEs and bodiless POSTs included. An empty body is an absent body, before auth and validation.
 */
describe('bodiless requests as Trusted Twin clients send them', () => {
  let api: TestApi;
  let alice: TestAccount;
  const json = { 'content-type': 'application/json' };

  beforeAll(async () => {
    api = await TestApi.start();
    alice = await api.createAccount('alice');
  });
  afterAll(async () => {
    await api.stop();
  });

  it('terminates a twin twice with an empty JSON body: the second gets its real answer', async () => {
    const twin = await api.post('/twins', { secret: alice.secret, headers: json, raw: '' });
    expectStatus(twin, 201);
    expect(twin.body.description).toEqual({});
    const first = await api.delete(`/twins/${twin.body.uuid}`, {
      secret: alice.secret,
      headers: json,
      raw: '',
    });
    expectStatus(first, 200);
    expect(first.body.termination_certificate).toBeDefined();
    const second = await api.delete(`/twins/${twin.body.uuid}`, {
      secret: alice.secret,
      headers: json,
      raw: '',
    });
    expectErrorShape(second, 400, 'idempotency_violation');
  });

  it('treats an empty body of any media type as absent', async () => {
    for (const type of ['application/json; charset=utf-8', 'text/plain', 'application/octet-stream']) {
      const res = await api.post('/twins', {
        secret: alice.secret,
        headers: { 'content-type': type },
        raw: '',
      });
      expectStatus(res, 201);
    }
  });

  it('treats a body of whitespace sent as JSON as absent', async () => {
    expectStatus(await api.post('/twins', { secret: alice.secret, headers: json, raw: '  \n' }), 201);
  });

  it('authenticates before it looks at an empty body', async () => {
    expectErrorShape(await api.delete(`/twins/${randomUUID()}`, { headers: json, raw: '' }), 401);
    expectErrorShape(await api.post('/resolve', { headers: json, raw: '' }), 401);
  });

  it('answers missing_body where a body is required, on every route', async () => {
    expectErrorShape(
      await api.post('/users', { secret: alice.secret, headers: json, raw: '' }),
      400,
      'missing_body',
    );
    const twin = await api.post('/twins', { secret: alice.secret, raw: '' });
    expectErrorShape(
      await api.post(`/twins/${twin.body.uuid}/identities`, { secret: alice.secret, headers: json, raw: '' }),
      400,
      'missing_body',
    );
    expectErrorShape(
      await api.post('/resolve', { secret: alice.secret, headers: json, raw: '' }),
      400,
      'missing_body',
    );
  });

  it('answers GET /resolve with a JSON content type and no body', async () => {
    const res = await api.get('/resolve/RFID%23none', {
      secret: alice.secret,
      headers: { ...json, 'content-length': '0' },
    });
    expectStatus(res, 200);
    expect(res.body).toEqual({ twins: [] });
  });

  it('still refuses a body that is not JSON', async () => {
    expectErrorShape(
      await api.post('/twins', { secret: alice.secret, headers: json, raw: '{' }),
      400,
      'invalid_json',
    );
  });
});

/**
 * A body sent with another media type is refused with 415 naming the one the API reads: curl's `-d` sends
 * `application/x-www-form-urlencoded`, which used to be parsed as a form and answered `400 unknown_attribute`.
 */
describe('bodies that are not JSON', () => {
  let api: TestApi;
  let alice: TestAccount;

  beforeAll(async () => {
    api = await TestApi.start();
    alice = await api.createAccount('alice');
  });
  afterAll(async () => {
    await api.stop();
  });

  const expectUnsupported = (res: Parameters<typeof expectErrorShape>[0]) => {
    expectErrorShape(res, 415, 'unsupported_media_type');
    expect(res.body.description).toContain('application/json');
  };

  it.each([
    ['/twins', 'application/x-www-form-urlencoded', '{"description":{"a":1}}'],
    ['/resolve', 'application/x-www-form-urlencoded', '{"identities":["RFID#1"]}'],
    ['/resolve', 'text/plain', '{"identities":["RFID#1"]}'],
    ['/users', 'application/octet-stream', '{"name":"bob"}'],
  ])('POST %s with %s answers 415', async (path, type, raw) => {
    expectUnsupported(await api.post(path, { secret: alice.secret, headers: { 'content-type': type }, raw }));
  });

  it('answers 415 on an update too', async () => {
    const twin = await api.post('/twins', { secret: alice.secret, raw: '' });
    const res = await api.patch(`/twins/${twin.body.uuid}`, {
      secret: alice.secret,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      raw: 'description=x',
    });
    expectUnsupported(res);
  });

  it('still reads JSON with a charset', async () => {
    const res = await api.post('/resolve', {
      secret: alice.secret,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      raw: '{"identities":["RFID#1"]}',
    });
    expectStatus(res, 200);
  });

  it('leaves POST /imports its own media types', async () => {
    for (const type of ['application/x-www-form-urlencoded', 'application/octet-stream']) {
      const res = await api.post('/imports', {
        secret: alice.secret,
        headers: { 'content-type': type },
        raw: 'a=b',
      });
      expectErrorShape(res, 400, 'invalid_content_type');
    }
  });
});
