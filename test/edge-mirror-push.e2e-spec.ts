import { randomUUID } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import { aName, expectStatus } from './support/factories.js';
import { isolatedConfig } from './support/test-env.js';
import { expectErrorShape, type TestAccount, TestApi } from './support/test-app.js';
import { UpstreamPush } from '../apps/worker/sync/upstream-push.js';
import { PushIntakeToken } from '../libs/sync/push-intake-token.js';
import { clearQueues, startWorker, waitFor } from './upstream-simulator/sync-harness.js';

/**
 * An edge mirror kept current by push (docs/notifications.md "Edge mirrors"): the upstream Twindex publishes a topic,
 * the mirror's sync-source webhook intake is subscribed to it (token in the URL), confirms the subscription itself
 * (on the upstream's origin only), and turns each message into a sync of its twin. Measures write acknowledged by
 * the upstream → the mirror's GET /resolve answering it.
 */
describe('Edge mirror fed by notifications', () => {
  let central: TestApi;
  let edge: TestApi;
  let centralWorker: INestApplicationContext;
  let edgeWorker: INestApplicationContext;
  let atCentral: TestAccount;
  let atEdge: TestAccount;
  let source: string;
  let webhookToken: string;
  const account = randomUUID();

  beforeAll(async () => {
    central = await TestApi.start();
    edge = await TestApi.start(isolatedConfig());
    atCentral = await central.createAccount('logistics', account);
    atEdge = await edge.createAccount('logistics', account);
    const res = await edge.post('/sync/sources', {
      secret: atEdge.secret,
      body: { name: 'central', base_url: central.baseUrl, secret: atCentral.secret, max_rate: 1000 },
    });
    expectStatus(res, 201);
    source = res.body.uuid;
    webhookToken = res.body.webhook_token;
    // The central worker writes its own public address into confirmation URLs (PUBLIC_URL).
    [centralWorker, edgeWorker] = await Promise.all([
      startWorker({ ...central.config, PUBLIC_URL: central.baseUrl }),
      startWorker({ ...edge.config, PUBLIC_URL: edge.baseUrl }),
    ]);
    expectStatus(
      await central.put('/notifications/topics/edge', {
        secret: atCentral.secret,
        body: { triggers: ['identity.created', 'identity.updated', 'identity.deleted'] },
      }),
      200,
    );
  }, 60_000);

  afterAll(async () => {
    await Promise.all([centralWorker.close(), edgeWorker.close()]);
    await clearQueues(edge.config);
    await edge.stop();
    await central.stop();
  }, 60_000);

  const intake = () =>
    `${edge.baseUrl}/sync/sources/${source}/webhook?token=${encodeURIComponent(webhookToken)}`;

  it('refuses a confirmation that points anywhere but the upstream', async () => {
    const res = await edge.post(`/sync/sources/${source}/webhook`, {
      headers: { 'x-webhook-token': webhookToken },
      body: { type: 'SubscriptionConfirmation', confirmation_url: 'http://127.0.0.1:9/elsewhere?token=x' },
    });
    expectErrorShape(res, 400, 'invalid_body');
  });

  /** Upstream write acknowledged → the mirror's GET /resolve answers it, over `count` writes (ms, sorted). */
  async function pushLatencies(count: number): Promise<number[]> {
    const twin = (await central.post('/twins', { secret: atCentral.secret, body: {} })).body.uuid as string;
    const latencies: number[] = [];
    for (let i = 0; i < count; i++) {
      const name = aName();
      const start = Date.now();
      expectStatus(
        await central.post(`/twins/${twin}/identities`, {
          secret: atCentral.secret,
          body: { identities: { [name]: { visibility: 'true' } } },
        }),
        201,
      );
      await waitFor(
        async () => {
          const res = await edge.get(`/resolve/${encodeURIComponent(name)}`, { secret: atEdge.secret });
          return res.status === 200 && res.body.twins?.includes(twin) ? true : undefined;
        },
        `${name} on the mirror`,
        10_000,
        10,
      );
      latencies.push(Date.now() - start);
    }
    return latencies.sort((a, b) => a - b);
  }

  const quantile = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))];

  const activeSubscriptions = async () =>
    (await central.get('/notifications/webhooks', { secret: atCentral.secret })).body.subscriptions.filter(
      (s: { status: string }) => s.status === 'active',
    ).length;

  it('confirms a subscription of its intake itself, then serves upstream writes within a second', async () => {
    expectStatus(
      await central.post('/notifications/webhooks', {
        secret: atCentral.secret,
        body: { callback_url: intake(), topic: 'edge' },
      }),
      201,
    );
    await waitFor(
      async () => ((await activeSubscriptions()) === 1 ? true : undefined),
      'the mirror to confirm',
    );
    const latencies = await pushLatencies(30);
    console.log(
      `edge push: upstream write acknowledged → mirror resolves it: p50 ${quantile(latencies, 0.5)} ms, p99 ${quantile(latencies, 0.99)} ms`,
    );
    expect(quantile(latencies, 0.5)).toBeLessThan(5_000);
  }, 120_000);

  it('subscribes by itself when a source asks for a topic ("subscribe": {"topic"}), and renews before expiry', async () => {
    // The manual subscription ends: only the source's own subscription feeds the mirror from here on.
    await central.delete('/notifications/topics/edge', { secret: atCentral.secret });
    expectStatus(
      await central.put('/notifications/topics/auto', {
        secret: atCentral.secret,
        body: { triggers: ['identity.created'] },
      }),
      200,
    );
    const updated = await edge.patch(`/sync/sources/${source}`, {
      secret: atEdge.secret,
      body: { subscribe: { topic: 'auto' } },
    });
    expect(updated.body.subscribe).toEqual({ topic: 'auto' });
    const push = edgeWorker.get(UpstreamPush);
    await push.tick();
    await waitFor(
      async () => ((await activeSubscriptions()) === 1 ? true : undefined),
      'the source to subscribe',
    );
    // Nothing new while the subscription has days left; a new one a day before it ends.
    await push.tick();
    expect(await activeSubscriptions()).toBe(1);
    await push.tick(Date.now() / 1000 + 6.5 * 24 * 3600);
    await waitFor(async () => ((await activeSubscriptions()) === 2 ? true : undefined), 'the renewal');

    const latencies = await pushLatencies(10);
    console.log(`edge push via the source's own subscription: p50 ${quantile(latencies, 0.5)} ms`);
    expect(quantile(latencies, 0.5)).toBeLessThan(5_000);

    // Its messages carry a hash the intake verifies: one forged with the intake's own token is refused.
    const pushToken = new PushIntakeToken(edge.config.TWINDEX_SECRET_KEY!).for(source);
    const forged = await edge.post(`/sync/sources/${source}/webhook`, {
      query: { token: pushToken },
      body: { type: 'Notification', twin: randomUUID(), sequence: 1, hash: 'ab'.repeat(32) },
    });
    expectErrorShape(forged, 400, 'invalid_hash');
  }, 120_000);
});
