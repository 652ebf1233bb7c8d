import { randomUUID } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import { aName, expectStatus } from './support/factories.js';
import { isolatedConfig } from './support/test-env.js';
import { expectErrorShape, type TestAccount, TestApi } from './support/test-app.js';
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
      startWorker(edge.config),
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

  it('confirms its subscription itself, then serves upstream writes within a second', async () => {
    expectStatus(
      await central.post('/notifications/webhooks', {
        secret: atCentral.secret,
        body: { callback_url: intake(), topic: 'edge' },
      }),
      201,
    );
    await waitFor(async () => {
      const listed = await central.get('/notifications/webhooks', { secret: atCentral.secret });
      return listed.body.subscriptions[0]?.status === 'active' ? true : undefined;
    }, 'the mirror to confirm');

    const twin = (await central.post('/twins', { secret: atCentral.secret, body: {} })).body.uuid as string;
    const latencies: number[] = [];
    for (let i = 0; i < 30; i++) {
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
    latencies.sort((a, b) => a - b);
    const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
    console.log(
      `edge push: upstream write acknowledged → mirror resolves it: p50 ${q(0.5)} ms, p99 ${q(0.99)} ms`,
    );
    expect(q(0.5)).toBeLessThan(5_000);
  }, 120_000);
});
