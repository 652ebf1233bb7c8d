import type { INestApplicationContext } from '@nestjs/common';
import { blake2b } from '@noble/hashes/blake2.js';
import { Client } from 'pg';
import { NotificationSweep } from '../apps/worker/notifications/notification-sweep.js';
import { aName, aTwin, attach, expectStatus, type Party } from './support/factories.js';
import { CallbackReceiver } from './support/callback-receiver.js';
import { TestApi } from './support/test-app.js';
import { isolatedConfig } from './support/test-env.js';
import { startWorker, waitFor } from './upstream-simulator/sync-harness.js';

/**
 * Delivery end to end (docs/notifications.md "Messages" and "Delivery guarantees"): a real API, a real worker and a
 * local receiver. The confirmation comes first and alone; messages carry a `sequence` without gaps and a `hash` a
 * receiver verifies with a stock BLAKE2b; failures are retried with the same `message` and `sequence`; nothing
 * arrives after an unsubscribe; a restarted worker loses nothing.
 */
describe('Notification delivery', () => {
  let api: TestApi;
  let worker: INestApplicationContext;
  let receiver: CallbackReceiver;
  let sql: Client;
  let alice: Party;

  beforeAll(async () => {
    const config = isolatedConfig();
    api = await TestApi.start(config);
    worker = await startWorker(config);
    receiver = await CallbackReceiver.start();
    sql = new Client({ connectionString: config.DATABASE_URL });
    await sql.connect();
    alice = await api.createAccount('alice');
    expectStatus(
      await api.put('/notifications/topics/gates', {
        secret: alice.secret,
        body: { triggers: ['identity.created', 'identity.updated', 'identity.deleted', 'identity.expired'] },
      }),
      200,
    );
  }, 60_000);

  afterAll(async () => {
    await receiver.close();
    await worker.close();
    await sql.end();
    await api.stop();
  }, 60_000);

  /** What a receiver does, in a few lines: drop `hash`, sort keys, no spaces, keyed BLAKE2b-256, compare. */
  function verifies(message: Record<string, unknown>, clientSecret: string, serverSecret: string): boolean {
    const sorted = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(sorted)
        : v && typeof v === 'object'
          ? Object.fromEntries(
              Object.keys(v)
                .sort()
                .map((k) => [k, sorted((v as Record<string, unknown>)[k])]),
            )
          : v;
    const { hash, ...rest } = message;
    const key = new TextEncoder().encode(clientSecret + serverSecret);
    const digest = blake2b(new TextEncoder().encode(JSON.stringify(sorted(rest))), { dkLen: 32, key });
    return hash === Buffer.from(digest).toString('hex');
  }

  /** Subscribes a receiver path; returns the confirmation URL from the confirmation message. */
  async function subscribed(
    path: string,
    extra: Record<string, unknown> = {},
  ): Promise<{ confirmation: Record<string, any>; serverSecret?: string }> {
    const res = await api.post('/notifications/webhooks', {
      secret: alice.secret,
      body: { callback_url: `${receiver.base}${path}`, topic: 'gates', ...extra },
    });
    expectStatus(res, 201);
    const [first] = await receiver.waitFor(path, 1);
    return { confirmation: first.body, serverSecret: res.body.server_secret };
  }

  /** Confirms through the URL of the confirmation message, on this test's API (PUBLIC_URL is not its port). */
  async function confirm(confirmationUrl: string): Promise<void> {
    const url = new URL(confirmationUrl);
    expectStatus(await api.get(`${url.pathname}${url.search}`), 200);
  }

  it('sends the confirmation first and alone, then hashed messages with sequences from 1', async () => {
    const clientSecret = 'Cl1ent-Secret_16';
    const { confirmation, serverSecret } = await subscribed('/hashed', { client_secret: clientSecret });
    expect(confirmation).toMatchObject({
      type: 'SubscriptionConfirmation',
      subscription: { topic: 'gates', account: alice.account },
    });
    expect(verifies(confirmation, clientSecret, serverSecret!)).toBe(true);

    // A change before the confirm reaches nobody.
    const twin = (await aTwin(api, alice)).uuid;
    const early = aName();
    await attach(api, alice, twin, { [early]: {} });
    await new Promise((r) => setTimeout(r, 500));
    expect(receiver.at('/hashed')).toHaveLength(1);

    await confirm(confirmation.confirmation_url);
    const name = aName();
    const committed = Date.now();
    await attach(api, alice, twin, { [name]: { validity_ts: 1_900_000_000 } });
    const [, message] = await receiver.waitFor('/hashed', 2);
    console.log(`commit → callback (one message, idle): ${message.at - committed} ms`);
    expect(message.body).toMatchObject({
      type: 'Notification',
      trigger: 'identity.created',
      twin,
      sequence: 1,
      event: { [name]: { new_value: { visibility: null, validity_ts: 1_900_000_000 }, old_value: null } },
      subscription: { topic: 'gates', account: alice.account },
    });
    expect(Object.keys(message.body.event)).toEqual([name]);
    expect(message.body.refresh_url).toBe(confirmation.confirmation_url);
    expect(verifies(message.body, clientSecret, serverSecret!)).toBe(true);
    expect(verifies({ ...message.body, sequence: 2 }, clientSecret, serverSecret!)).toBe(false);
  });

  it('delivers many changes one at a time, in sequence order without gaps', async () => {
    const { confirmation } = await subscribed('/ordered');
    await confirm(confirmation.confirmation_url);
    const twin = (await aTwin(api, alice)).uuid;
    const names = Array.from({ length: 30 }, () => aName());
    for (const name of names) await attach(api, alice, twin, { [name]: {} });
    const got = (await receiver.waitFor('/ordered', 31)).slice(1);
    expect(got.map((r) => r.body.sequence)).toEqual(names.map((_, i) => i + 1));
    expect(got.map((r) => Object.keys(r.body.event)[0])).toEqual(names);
    expect(got.some((r) => 'hash' in r.body)).toBe(false);
  });

  it('retries a failing receiver with the same message id and sequence, honouring Retry-After', async () => {
    const { confirmation } = await subscribed('/flaky');
    await confirm(confirmation.confirmation_url);
    let failuresLeft = 2;
    receiver.behave = (path) =>
      path === '/flaky' && failuresLeft-- > 0 ? { status: 503, retryAfter: 1 } : { status: 200 };
    const twin = (await aTwin(api, alice)).uuid;
    await attach(api, alice, twin, { [aName()]: {} });
    const attempts = (await receiver.waitFor('/flaky', 4, 30_000)).slice(1);
    receiver.behave = () => ({ status: 200 });
    expect(new Set(attempts.map((a) => a.body.message)).size).toBe(1);
    expect(attempts.map((a) => a.body.sequence)).toEqual([1, 1, 1]);
    // Retry-After: 1 s was honoured between the attempts.
    expect(attempts[1].at - attempts[0].at).toBeGreaterThanOrEqual(900);
    // The receiver has the message; the worker records the success right after.
    const flaky = await waitFor(async () => {
      const listed = await api.get('/notifications/webhooks', { secret: alice.secret });
      const row = listed.body.subscriptions.find((s: { callback_url: string }) =>
        s.callback_url.endsWith('/flaky'),
      );
      return row.failures === 0 ? row : undefined;
    }, 'the success recorded');
    expect(flaky).toMatchObject({ status: 'active', failures: 0, last_error: null });
  });

  it('sends batches of at most max_batch for a bulk change', async () => {
    const { confirmation } = await subscribed('/batched', { max_batch: 50 });
    await confirm(confirmation.confirmation_url);
    const twins = await Promise.all(Array.from({ length: 3 }, () => aTwin(api, alice)));
    // One statement, 120 identities on 3 twins: 3 events (one per twin), each keyed by 40 names.
    await sql.query(
      `INSERT INTO identities (name, twin, owner, visibility, validity_ts, created_ts, updated_ts, creator)
       SELECT 'BULK#' || g, ($1::uuid[])[1 + g % 3], $2, NULL, NULL, 1, 1, $2 FROM generate_series(1, 120) g`,
      [twins.map((t) => t.uuid), alice.account],
    );
    const [, batch] = await receiver.waitFor('/batched', 2);
    expect(batch.body.type).toBe('Notifications');
    expect(batch.body.notifications.map((n: { sequence: number }) => n.sequence)).toEqual([1, 2, 3]);
    const names = batch.body.notifications.flatMap((n: { event: object }) => Object.keys(n.event));
    expect(names).toHaveLength(120);
  });

  it('delivers nothing after an unsubscribe', async () => {
    const { confirmation } = await subscribed('/leaving');
    await confirm(confirmation.confirmation_url);
    const url = new URL(confirmation.confirmation_url);
    expectStatus(await api.delete(`${url.pathname}${url.search}`), 200);
    const twin = (await aTwin(api, alice)).uuid;
    await attach(api, alice, twin, { [aName()]: {} });
    // A subscription that is still active, subscribed after, proves the change was delivered to whoever listens.
    await new Promise((r) => setTimeout(r, 500));
    expect(receiver.at('/leaving')).toHaveLength(1);
  });

  it('answers an unsubscribe once the POST in flight has ended: nothing arrives after the answer', async () => {
    const { confirmation } = await subscribed('/slow');
    await confirm(confirmation.confirmation_url);
    receiver.behave = (path) => (path === '/slow' ? { status: 200, delayMs: 1_500 } : { status: 200 });
    const twin = (await aTwin(api, alice)).uuid;
    for (let i = 0; i < 3; i++) await attach(api, alice, twin, { [aName()]: {} });
    await receiver.waitFor('/slow', 2);
    const url = new URL(confirmation.confirmation_url);
    const asked = Date.now();
    expectStatus(await api.delete(`${url.pathname}${url.search}`), 200);
    const answered = Date.now();
    receiver.behave = () => ({ status: 200 });
    await new Promise((r) => setTimeout(r, 2_000));
    console.log(`unsubscribe waited ${answered - asked} ms for the POST in flight`);
    expect(receiver.at('/slow').filter((r) => r.at > answered)).toEqual([]);
    expect(receiver.at('/slow')).toHaveLength(2);
    expect(answered - asked).toBeGreaterThan(500);
  });

  it("publishes only what the topic's rule holds for, the twin's description included", async () => {
    expectStatus(
      await api.put('/notifications/topics/north', {
        secret: alice.secret,
        body: { triggers: ['identity.created'], rule: "TWIN.site == 'north' and identity =~ 'RFID#.*'" },
      }),
      200,
    );
    const res = await api.post('/notifications/webhooks', {
      secret: alice.secret,
      body: { callback_url: `${receiver.base}/north`, topic: 'north' },
    });
    expectStatus(res, 201);
    const [first] = await receiver.waitFor('/north', 1);
    await confirm(first.body.confirmation_url);
    const north = (await aTwin(api, alice, { site: 'north' })).uuid;
    const south = (await aTwin(api, alice, { site: 'south' })).uuid;
    const [tag, barcode] = [aName('RFID'), aName('GTIN')];
    await attach(api, alice, south, { [aName('RFID')]: {} });
    await attach(api, alice, north, { [tag]: {}, [barcode]: {} });
    const [, message] = await receiver.waitFor('/north', 2);
    expect(message.body).toMatchObject({ twin: north, sequence: 1 });
    expect(Object.keys(message.body.event)).toEqual([tag]);
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.at('/north')).toHaveLength(2);
  });

  it('publishes identity.expired once validity_ts passes', async () => {
    const { confirmation } = await subscribed('/expiry');
    await confirm(confirmation.confirmation_url);
    const sweep = worker.get(NotificationSweep);
    await sweep.tick();
    const twin = (await aTwin(api, alice)).uuid;
    const name = aName();
    const validity = Date.now() / 1000 + 0.5;
    await attach(api, alice, twin, { [name]: { validity_ts: validity } });
    await receiver.waitFor('/expiry', 2);
    await new Promise((r) => setTimeout(r, 700));
    await sweep.tick();
    const [, , expired] = await receiver.waitFor('/expiry', 3);
    expect(expired.body).toMatchObject({ trigger: 'identity.expired', twin, sequence: 2 });
    expect(expired.body.event[name].new_value.validity_ts).toBeCloseTo(validity, 3);
  });

  it('loses nothing of changes committed while the worker is down', async () => {
    const { confirmation } = await subscribed('/restart');
    await confirm(confirmation.confirmation_url);
    await worker.close();
    const twin = (await aTwin(api, alice)).uuid;
    const names = Array.from({ length: 5 }, () => aName());
    for (const name of names) await attach(api, alice, twin, { [name]: {} });
    worker = await startWorker(api.config);
    const got = (await receiver.waitFor('/restart', 6)).slice(1);
    expect(got.map((r) => r.body.sequence)).toEqual([1, 2, 3, 4, 5]);
    expect(got.map((r) => Object.keys(r.body.event)[0])).toEqual(names);
  });
});
