import { Client } from 'pg';
import { expectStatus, type Party } from './support/factories.js';
import { isolatedConfig } from './support/test-env.js';
import { expectErrorShape, TestApi } from './support/test-app.js';

/**
 * Trusted Twin's subscription operations as a hostile tenant meets them (docs/notifications.md "Subscribing"):
 * foreign topics without a grant answer like missing ones, tokens parse as Trusted Twin's Python client parses them,
 * are stored only hashed, and wrong ones are throttled.
 */
describe('Notification subscriptions', () => {
  let api: TestApi;
  let sql: Client;
  let alice: Party;
  let bob: Party;
  // Loopback callbacks are allowed here the way an operator allows a private network.
  const CALLBACK = 'http://127.0.0.1:9/hook';

  beforeAll(async () => {
    api = await TestApi.start(
      isolatedConfig({ SYNC_ALLOWED_HOSTS: '127.0.0.1', RATE_LIMIT_FAILURES_PER_ADDRESS: '8' }),
    );
    alice = await api.createAccount('alice');
    bob = await api.createAccount('bob');
    sql = new Client({ connectionString: api.config.DATABASE_URL });
    await sql.connect();
    for (const topic of ['gates', 'secret'])
      expectStatus(
        await api.put(`/notifications/topics/${topic}`, {
          secret: alice.secret,
          body: { triggers: ['identity.created'] },
        }),
        200,
      );
  }, 60_000);

  afterAll(async () => {
    await sql.end();
    await api.stop();
  }, 60_000);

  const subscribe = (party: Party, body: Record<string, unknown>) =>
    api.post('/notifications/webhooks', { secret: party.secret, body: { callback_url: CALLBACK, ...body } });

  /**
   * The token a subscriber learns from the confirmation message. The API never answers with it, so the test derives
   * it as the worker does (SubscriptionSecrets, from the stored nonce and TWINDEX_SECRET_KEY).
   */
  async function tokenOf(
    subscription: { topic: string; account: string },
    subscriber: Party,
  ): Promise<string> {
    const { SubscriptionSecrets } = await import('../libs/notifications/subscription-secrets.js');
    const row = (
      await sql.query<{ uuid: string; token_nonce: string }>(
        `SELECT uuid, token_nonce FROM notification_subscriptions
          WHERE account = $1 AND topic = $2 AND subscriber = $3 ORDER BY created_ts DESC LIMIT 1`,
        [subscription.account, subscription.topic, subscriber.account],
      )
    ).rows[0];
    return new SubscriptionSecrets(api.config.TWINDEX_SECRET_KEY!).token(
      row.uuid,
      subscription.account,
      row.token_nonce,
    );
  }

  /** Trusted Twin's Python client: base64.b64decode(token).decode().split('___'), the account second. */
  const pythonClientAccount = (token: string) =>
    Buffer.from(token, 'base64').toString('utf8').split('___')[1];

  it('subscribes to an own topic: pending, 7 days by default, no server_secret without a client_secret', async () => {
    const res = await subscribe(alice, { topic: 'gates' });
    expectStatus(res, 201);
    expect(res.body).toEqual({
      subscription: { topic: 'gates', account: alice.account, validity_ts: expect.any(Number) },
      callback_url: CALLBACK,
    });
    expect(res.body.subscription.validity_ts - Date.now() / 1000).toBeGreaterThan(604_800 - 60);
    const listed = await api.get('/notifications/webhooks', { secret: alice.secret });
    expect(listed.body.subscriptions).toEqual([
      expect.objectContaining({ topic: 'gates', status: 'pending', failures: 0, hashed: false }),
    ]);
    expect(JSON.stringify(listed.body)).not.toMatch(/token|secret/i);
  });

  it('returns a server_secret once when a client_secret is given, and refuses a malformed one', async () => {
    const res = await subscribe(alice, { topic: 'gates', client_secret: 'AAAAbbbbCCCCdd-_', expires: 3600 });
    expectStatus(res, 201);
    expect(res.body.server_secret).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expectErrorShape(await subscribe(alice, { topic: 'gates', client_secret: 'short' }), 400, 'invalid_body');
  });

  it("answers bob's subscription to alice's topic without a grant exactly like a topic that does not exist", async () => {
    const foreign = await subscribe(bob, { topic: 'gates', account: alice.account });
    const missing = await subscribe(bob, { topic: 'no-such-topic', account: alice.account });
    const nowhere = await subscribe(bob, { topic: 'gates', account: '00000000-0000-4000-8000-000000000000' });
    for (const res of [foreign, missing, nowhere]) expectErrorShape(res, 403, 'forbidden');
    expect(new Set([foreign, missing, nowhere].map((r) => r.body.description)).size).toBe(1);
  });

  it('lets bob subscribe once alice grants the topic (either attribute name), and only that topic', async () => {
    const grant = await api.patch(`/notifications/webhooks/access/accounts/${bob.account}`, {
      secret: alice.secret,
      body: { publish: ['gates'] },
    });
    expect(grant.body).toEqual({ topics: ['gates'] });
    expect((await api.get('/notifications/webhooks/access', { secret: alice.secret })).body).toEqual({
      accounts: { [bob.account]: { topics: ['gates'] } },
    });
    expectStatus(await subscribe(bob, { topic: 'gates', account: alice.account }), 201);
    expectErrorShape(await subscribe(bob, { topic: 'secret', account: alice.account }), 403, 'forbidden');

    await api.patch(`/notifications/webhooks/access/accounts/${bob.account}`, {
      secret: alice.secret,
      body: { topics: [] },
    });
    expectErrorShape(await subscribe(bob, { topic: 'gates', account: alice.account }), 403, 'forbidden');
    // Bob's listing shows his subscription; alice's does not.
    const bobs = await api.get('/notifications/webhooks', { secret: bob.secret });
    expect(bobs.body.subscriptions).toEqual([
      expect.objectContaining({ account: alice.account, topic: 'gates' }),
    ]);
  });

  it('refuses callbacks the SSRF guard refuses', async () => {
    for (const url of ['http://169.254.169.254/latest', 'http://10.0.0.1/hook', 'ftp://example.com/x'])
      expect((await subscribe(alice, { topic: 'gates', callback_url: url })).status).toBe(400);
    expectErrorShape(
      await subscribe(alice, { topic: 'gates', callback_url: `https://example.com/${'a'.repeat(520)}` }),
      400,
      'invalid_body',
    );
  });

  it('confirms, refreshes and unsubscribes with the token, which parses as the Python client parses it', async () => {
    expectStatus(await subscribe(alice, { topic: 'secret', expires: 60 }), 201);
    const token = await tokenOf({ topic: 'secret', account: alice.account }, alice);
    expect(pythonClientAccount(token)).toBe(alice.account);
    const path = `/notifications/webhooks/${alice.account}`;

    const confirmed = await api.get(path, { query: { token } });
    expectStatus(confirmed, 200);
    expect(confirmed.body).toMatchObject({
      subscription: { topic: 'secret', account: alice.account },
      callback_url: CALLBACK,
    });
    expect(new URL(confirmed.body.refresh_url).searchParams.get('token')).toBe(token);
    expect(confirmed.body.unsubscribe_url).toBe(confirmed.body.refresh_url);

    const before = confirmed.body.subscription.validity_ts;
    const refreshed = await api.patch(path, { query: { token }, body: { expires: 7200 } });
    expectStatus(refreshed, 200);
    expect(refreshed.body.subscription.validity_ts).toBeGreaterThan(before + 7000);

    const listed = await api.get('/notifications/webhooks', { secret: alice.secret });
    expect(listed.body.subscriptions.find((s: { topic: string }) => s.topic === 'secret').status).toBe(
      'active',
    );

    expectStatus(await api.delete(path, { query: { token } }), 200);
    expectErrorShape(await api.get(path, { query: { token } }), 404, 'not_found');
  });

  it('stores no token: only its SHA-256 and a nonce', async () => {
    expectStatus(await subscribe(alice, { topic: 'gates' }), 201);
    const token = await tokenOf({ topic: 'gates', account: alice.account }, alice);
    const dump = JSON.stringify(
      (await sql.query('SELECT * FROM notification_subscriptions')).rows.map((r) => ({
        ...r,
        token_hash: Buffer.from(r.token_hash).toString('base64'),
      })),
    );
    expect(dump).not.toContain(token);
    expect(dump).not.toContain(Buffer.from(token, 'base64').toString('utf8').split('___')[3]);
  });

  it('refuses a forged or altered token like an unknown one, and throttles an address that keeps guessing', async () => {
    const token = await tokenOf({ topic: 'gates', account: alice.account }, alice);
    const [sub, account, nonce, mac] = Buffer.from(token, 'base64').toString('utf8').split('___');
    const flipped = mac.slice(0, -1) + (mac.endsWith('0') ? '1' : '0');
    const forged = Buffer.from([sub, account, nonce, flipped].join('___')).toString('base64');
    const otherAccount = Buffer.from([sub, bob.account, nonce, mac].join('___')).toString('base64');
    const answers = [
      await api.get(`/notifications/webhooks/${alice.account}`, { query: { token: forged } }),
      await api.get(`/notifications/webhooks/${bob.account}`, { query: { token: otherAccount } }),
      await api.get(`/notifications/webhooks/${bob.account}`, { query: { token } }),
      await api.get(`/notifications/webhooks/${alice.account}`, { query: { token: 'bm9wZQ==' } }),
      await api.get(`/notifications/webhooks/${alice.account}`),
    ];
    for (const res of answers) expectErrorShape(res, 404, 'not_found');
    let status = 404;
    for (let i = 0; i < 10 && status !== 429; i++)
      status = (await api.get(`/notifications/webhooks/${alice.account}`, { query: { token: forged } }))
        .status;
    expect(status).toBe(429);
    // Once throttled, even the right token waits: the address is refused before the token is looked at.
    expect((await api.get(`/notifications/webhooks/${alice.account}`, { query: { token } })).status).toBe(
      429,
    );
  });

  it('limits an account to 100 live subscriptions', async () => {
    const carol = await api.createAccount('carol');
    await api.put('/notifications/topics/t', { secret: carol.secret, body: { triggers: ['twin.updated'] } });
    const answers = await Promise.all(
      Array.from({ length: 101 }, () => subscribe(carol, { topic: 't' }).then((r) => r.status)),
    );
    expect(answers.filter((s) => s === 201)).toHaveLength(100);
    expect(answers.filter((s) => s === 400)).toHaveLength(1);
  });

  it('ends the subscriptions of a deleted topic', async () => {
    const dave = await api.createAccount('dave');
    await api.put('/notifications/topics/short-lived', {
      secret: dave.secret,
      body: { triggers: ['twin.updated'] },
    });
    expectStatus(await subscribe(dave, { topic: 'short-lived' }), 201);
    expectStatus(await api.delete('/notifications/topics/short-lived', { secret: dave.secret }), 200);
    const listed = await api.get('/notifications/webhooks', { secret: dave.secret });
    expect(listed.body.subscriptions.map((s: { status: string }) => s.status)).toEqual(['ended']);
  });
});
