import type { INestApplicationContext } from '@nestjs/common';
import { Client } from 'pg';
import { aName, aTwin, attach, expectStatus, type Party } from './support/factories.js';
import { CallbackReceiver } from './support/callback-receiver.js';
import { TestApi } from './support/test-app.js';
import { isolatedConfig } from './support/test-env.js';
import { startWorker, waitFor } from './upstream-simulator/sync-harness.js';

/**
 * Tenants attacking each other through notifications (docs/notifications.md "Fair and bounded"), written as the
 * attack: mallory's callbacks hang or fail while bob's deliveries keep their own pace; a subscriber that keeps
 * failing for 24 h is suspended and resumes from where it stopped on refresh.
 */
describe('Hostile tenants and notifications', () => {
  let api: TestApi;
  let worker: INestApplicationContext;
  let receiver: CallbackReceiver;
  let sql: Client;

  beforeAll(async () => {
    // A small total so that mallory could take every slot if the per-account bound did not hold.
    const config = isolatedConfig({ NOTIFY_CONCURRENCY: '6', NOTIFY_CONCURRENCY_PER_ACCOUNT: '2' });
    api = await TestApi.start(config);
    worker = await startWorker(config);
    receiver = await CallbackReceiver.start();
    sql = new Client({ connectionString: config.DATABASE_URL });
    await sql.connect();
  }, 60_000);

  afterAll(async () => {
    await receiver.close();
    await worker.close();
    await sql.end();
    await api.stop();
  }, 60_000);

  async function publisher(name: string): Promise<Party> {
    const party = await api.createAccount(name);
    expectStatus(
      await api.put('/notifications/topics/all', {
        secret: party.secret,
        body: { triggers: ['identity.created'] },
      }),
      200,
    );
    return party;
  }

  async function subscribeConfirmed(party: Party, path: string): Promise<string> {
    const res = await api.post('/notifications/webhooks', {
      secret: party.secret,
      body: { callback_url: `${receiver.base}${path}`, topic: 'all' },
    });
    expectStatus(res, 201);
    const [confirmation] = await receiver.waitFor(path, 1);
    const url = new URL(confirmation.body.confirmation_url);
    expectStatus(await api.get(`${url.pathname}${url.search}`), 200);
    return `${url.pathname}${url.search}`;
  }

  const quantile = (sorted: number[], q: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

  it("keeps bob's deliveries at their own pace while mallory's callbacks hang", async () => {
    const bob = await publisher('bob');
    const mallory = await publisher('mallory');
    // Bob alone first: his own pace on this machine right now.
    const bobTwin = (await aTwin(api, bob)).uuid;
    await subscribeConfirmed(bob, '/bob');
    const measure = async (count: number): Promise<number[]> => {
      const before = receiver.at('/bob').length;
      const latencies: number[] = [];
      for (let i = 0; i < count; i++) {
        const start = Date.now();
        await attach(api, bob, bobTwin, { [aName()]: {} });
        await receiver.waitFor('/bob', before + i + 1);
        latencies.push(receiver.at('/bob')[before + i].at - start);
      }
      return latencies.sort((a, b) => a - b);
    };
    const alone = await measure(30);

    // Mallory: ten subscriptions whose callbacks never answer, each with messages queued.
    const malloryPaths = Array.from({ length: 10 }, (_, i) => `/mallory-${i}`);
    for (const path of malloryPaths) await subscribeConfirmed(mallory, path);
    receiver.behave = (path) => (path.startsWith('/mallory') ? 'hang' : { status: 200 });
    const malloryTwin = (await aTwin(api, mallory)).uuid;
    for (let i = 0; i < 5; i++) await attach(api, mallory, malloryTwin, { [aName()]: {} });
    await waitFor(
      async () =>
        receiver.received.filter((r) => r.path.startsWith('/mallory')).length >= 12 ? true : undefined,
      "mallory's hanging POSTs",
    );

    const underAttack = await measure(30);
    receiver.behave = () => ({ status: 200 });
    console.log(
      `bob commit → callback, alone: p50 ${quantile(alone, 0.5)} ms, p99 ${quantile(alone, 0.99)} ms; ` +
        `while mallory's 10 callbacks hang: p50 ${quantile(underAttack, 0.5)} ms, p99 ${quantile(underAttack, 0.99)} ms`,
    );
    // Bob's budget is the 5 s callback timeout; a bob waiting behind mallory's hanging POSTs would need that long.
    expect(quantile(underAttack, 0.99)).toBeLessThan(2_500);
    // Mallory held at most her two slots at once.
    const inFlightMallory = receiver.received.filter((r) => r.path.startsWith('/mallory')).length;
    expect(inFlightMallory).toBeLessThanOrEqual(12);
  }, 120_000);

  it('suspends a subscription failing for 24 h, and a refresh resumes it from where it stopped', async () => {
    const carol = await publisher('carol');
    const tokenPath = await subscribeConfirmed(carol, '/carol');
    receiver.behave = (path) => (path === '/carol' ? { status: 500 } : { status: 200 });
    const twin = (await aTwin(api, carol)).uuid;
    const [first, second] = [aName(), aName()];
    await attach(api, carol, twin, { [first]: {} });
    await receiver.waitFor('/carol', 2);
    // Failing since a day ago: the next failure suspends.
    await sql.query(
      `UPDATE notification_subscriptions SET failing_since = extract(epoch FROM now()) - 86401, next_attempt_ts = 0
        WHERE callback_url LIKE '%/carol'`,
    );
    await attach(api, carol, twin, { [second]: {} });
    const suspended = await waitFor(async () => {
      const listed = await api.get('/notifications/webhooks', { secret: carol.secret });
      const row = listed.body.subscriptions[0];
      return row.status === 'suspended' ? row : undefined;
    }, 'suspension');
    expect(suspended.last_error).toBe('HTTP 500');

    receiver.behave = () => ({ status: 200 });
    const attempts = receiver.at('/carol').length;
    expectStatus(await api.patch(tokenPath, { body: {} }), 200);
    const resumed = (await receiver.waitFor('/carol', attempts + 2)).slice(attempts);
    expect(resumed.map((r) => [r.body.sequence, Object.keys(r.body.event)[0]])).toEqual([
      [1, first],
      [2, second],
    ]);
  }, 60_000);
});
