import type { INestApplicationContext } from '@nestjs/common';
import { aName, aTwin, attach, expectStatus, type Party } from './support/factories.js';
import { CallbackReceiver } from './support/callback-receiver.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { TestApi } from './support/test-app.js';
import { isolatedConfig } from './support/test-env.js';
import { startWorker, waitFor } from './upstream-simulator/sync-harness.js';

/**
 * Faults under a stream of changes (docs/notifications.md "Delivery"): the worker's PostgreSQL connections are cut
 * (a database restart, as the worker sees it: every connection, the LISTEN one included, reset) and the worker
 * is stopped and replaced mid-stream. Every committed change still arrives, in order, and whatever arrives twice
 * arrives with the same `message` id and `sequence`, so the receiver can tell.
 */
describe('Notification delivery through faults', () => {
  let api: TestApi;
  let worker: INestApplicationContext;
  let receiver: CallbackReceiver;
  let proxy: TcpProxy;
  let alice: Party;
  let workerConfig: ReturnType<typeof isolatedConfig>;

  beforeAll(async () => {
    const config = isolatedConfig();
    api = await TestApi.start(config);
    proxy = new TcpProxy('127.0.0.1', 5432);
    await proxy.start();
    const viaProxy = new URL(config.DATABASE_URL);
    viaProxy.port = String(proxy.port);
    workerConfig = { ...config, DATABASE_URL: viaProxy.toString(), DATABASE_CONNECT_TIMEOUT_MS: 1_000 };
    worker = await startWorker(workerConfig);
    receiver = await CallbackReceiver.start();
    alice = await api.createAccount('alice');
    expectStatus(
      await api.put('/notifications/topics/all', {
        secret: alice.secret,
        body: { triggers: ['identity.created'] },
      }),
      200,
    );
  }, 60_000);

  afterAll(async () => {
    await receiver.close();
    await worker.close();
    await proxy.stop();
    await api.stop();
  }, 60_000);

  async function subscribeConfirmed(path: string): Promise<void> {
    const res = await api.post('/notifications/webhooks', {
      secret: alice.secret,
      body: { callback_url: `${receiver.base}${path}`, topic: 'all' },
    });
    expectStatus(res, 201);
    const [confirmation] = await receiver.waitFor(path, 1);
    const url = new URL(confirmation.body.confirmation_url);
    expectStatus(await api.get(`${url.pathname}${url.search}`), 200);
  }

  /** Every sequence 1..n, each once or repeated identically; the names in commit order. */
  function expectComplete(path: string, names: string[]): void {
    const messages = receiver.at(path).slice(1);
    const bySequence = new Map<number, { message: string; name: string }>();
    for (const m of messages) {
      const seen = { message: m.body.message, name: Object.keys(m.body.event)[0] };
      const earlier = bySequence.get(m.body.sequence);
      if (earlier) expect(seen).toEqual(earlier);
      else bySequence.set(m.body.sequence, seen);
    }
    const ordered = [...bySequence.keys()].sort((a, b) => a - b);
    expect(ordered).toEqual(names.map((_, i) => i + 1));
    expect(ordered.map((s) => bySequence.get(s)!.name)).toEqual(names);
    // First arrivals are in sequence order too: a retry never overtakes.
    const firsts: number[] = [];
    for (const m of messages) if (!firsts.includes(m.body.sequence)) firsts.push(m.body.sequence);
    expect(firsts).toEqual(ordered);
    console.log(
      `${path}: ${names.length} changes, ${messages.length} POSTs (${messages.length - names.length} repeats)`,
    );
  }

  it("loses nothing when the worker's database connections are reset mid-stream", async () => {
    await subscribeConfirmed('/pg-reset');
    const twin = (await aTwin(api, alice)).uuid;
    const names: string[] = [];
    for (let i = 0; i < 60; i++) {
      if (i === 20) await proxy.stop();
      if (i === 40) await proxy.start();
      const name = aName();
      names.push(name);
      await attach(api, alice, twin, { [name]: {} });
    }
    await waitFor(
      async () =>
        new Set(receiver.at('/pg-reset').map((r) => r.body.sequence)).size >= 61 ? true : undefined,
      'every change delivered after the reset',
      30_000,
    );
    expectComplete('/pg-reset', names);
  }, 60_000);

  it('loses nothing when the worker is replaced mid-stream', async () => {
    await subscribeConfirmed('/replaced');
    const twin = (await aTwin(api, alice)).uuid;
    const names: string[] = [];
    const writes = (async () => {
      for (let i = 0; i < 40; i++) {
        const name = aName();
        names.push(name);
        await attach(api, alice, twin, { [name]: {} });
      }
    })();
    await receiver.waitFor('/replaced', 5);
    await worker.close();
    worker = await startWorker(workerConfig);
    await writes;
    await waitFor(
      async () =>
        new Set(receiver.at('/replaced').map((r) => r.body.sequence)).size >= 41 ? true : undefined,
      'every change delivered by the new worker',
      30_000,
    );
    expectComplete('/replaced', names);
  }, 60_000);
});
