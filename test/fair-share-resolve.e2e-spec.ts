/**
 * Each account's share of the resolve path (issue #21), tried as an attacker would: tenant X floods POST /resolve,
 * GET /resolve and POST /resolve/explain beyond its share, with several credentials of its own account; tenant Y,
 * quiet, must be answered all along. The share here is tiny (1 name/s after a burst of one batch) so that no
 * refill during the test, however slow the machine, changes an answer.
 */
import { aName, aTwin, attach, expectStatus, Fixtures, type Party, pathOf } from './support/factories.js';
import { expectErrorShape, type HttpResponse, TestApi } from './support/test-app.js';
import { isolatedConfig } from './support/test-env.js';
import { cacheFigures } from './support/two-instances.js';

const names = (n: number, scheme: string) => Array.from({ length: n }, () => aName(scheme));

describe("each account's share of the resolve path", () => {
  let api: TestApi;
  let fx: Fixtures;
  let x: Party;
  let y: Party;
  let yName: string;
  let yTwin: string;

  beforeAll(async () => {
    api = await TestApi.start(
      isolatedConfig({ RESOLVE_NAMES_PER_SECOND_PER_ACCOUNT: '1', RESOLVE_BURST_NAMES: '1000' }),
    );
    fx = await Fixtures.connect(api);
    x = await fx.anAccount('x');
    y = await fx.anAccount('y');
    yTwin = (await aTwin(api, y)).uuid;
    yName = aName('YGATE');
    await attach(api, y, yTwin, { [yName]: {} });
  }, 60_000);

  afterAll(async () => {
    await api.stop();
  });

  const batch = (party: Party, identities: string[]) =>
    api.post('/resolve', { secret: party.secret, body: { identities } });

  function expectRefused(res: HttpResponse): void {
    expectErrorShape(res, 429, 'rate_limited');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  }

  it('refuses X past its share on every resolve route, and resolves nothing of a refused call', async () => {
    // The burst, then one more batch on overdraft: 1,000 names owed.
    expectStatus(await batch(x, names(1000, 'XRAND')), 200);
    expectStatus(await batch(x, names(1000, 'XRAND')), 200);

    const before = await cacheFigures(api, 'identity');
    const sentAt = performance.now();
    const refused = await batch(x, names(1000, 'XRAND'));
    // Held for a second before it is answered: a client that ignores Retry-After cannot refuse itself faster.
    expect(performance.now() - sentAt).toBeGreaterThanOrEqual(900);
    expectRefused(refused);
    // A thousand names short at one a second.
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(900);
    const gets = await Promise.all(
      names(5, 'XRAND').map((n) => api.get(`/resolve/${pathOf(n)}`, { secret: x.secret })),
    );
    // A thousand names owed at one a second: nothing refills during this test, however slow the machine.
    for (const r of gets) expectRefused(r);
    const explains = await Promise.all(
      names(5, 'XRAND').map((identity) =>
        api.post('/resolve/explain', { secret: x.secret, body: { identity } }),
      ),
    );
    for (const r of explains) expectRefused(r);
    const after = await cacheFigures(api, 'identity');
    // Nothing refused was looked up.
    expect(after.misses - before.misses).toBe(0);
  }, 60_000);

  it('refuses a batch past the share before reading its body: even a malformed one gets 429, not 400', async () => {
    expectRefused(await api.post('/resolve', { secret: x.secret, raw: '{"identities": [' }));
    expectRefused(await api.post('/resolve/explain', { secret: x.secret, raw: '{"identity": ' }));
    // Y's malformed body is read, and answered for what it is.
    expectErrorShape(await api.post('/resolve', { secret: y.secret, raw: '{"identities": [' }), 400);
  }, 60_000);

  it("shares one budget among all of X's credentials: another user's secret does not reset it", async () => {
    const other = await fx.aUser(x, { effect: 'allow', actions: ['resolve_twin_identity'] });
    expectRefused(await batch(other, names(1000, 'XRAND')));
  }, 60_000);

  it('counts a user token of X against the same share (checked once its body is read, as tokens are not cached)', async () => {
    const minted = await api.post('/token', {
      secret: x.secret,
      headers: { 'content-type': 'application/json' },
      raw: '',
    });
    expectStatus(minted, 201);
    const token: Party = { ...x, secret: minted.body.token as string };
    expectRefused(await batch(token, names(10, 'XRAND')));
    // Its malformed body is read before the share is checked: 400, the one answer the early check cannot give.
    expectErrorShape(await api.post('/resolve', { secret: token.secret, raw: '{"identities": [' }), 400);
  }, 60_000);

  it('keeps answering Y, on every route, while X is refused', async () => {
    // Y stays within its own share: 500 names and one.
    const many = await batch(y, [yName, ...names(499, 'YRAND')]);
    expectStatus(many, 200);
    expect(many.body.results[yName].twins).toEqual([yTwin]);
    const one = await api.get(`/resolve/${pathOf(yName)}`, { secret: y.secret });
    expectStatus(one, 200);
    expect(one.body.twins).toEqual([yTwin]);
    expectRefused(await batch(x, [aName('XRAND')]));
  }, 60_000);
});
