import { Client } from 'pg';
import { aName, aTwin, attach, expectStatus, type Party, terminate } from './support/factories.js';
import { expectErrorShape, TestApi } from './support/test-app.js';

/**
 * Topics and the outbox the database triggers write (docs/notifications.md "Publishing" and "Durable and complete"):
 * every writer is covered — the API and plain SQL alike — a rollback leaves nothing, and an account without a topic
 * writes nothing.
 */
describe('Notification topics and the outbox', () => {
  let api: TestApi;
  let sql: Client;
  let alice: Party;
  let bob: Party;

  beforeAll(async () => {
    api = await TestApi.start();
    alice = await api.createAccount('alice');
    bob = await api.createAccount('bob');
    sql = new Client({ connectionString: api.config.DATABASE_URL });
    await sql.connect();
  }, 60_000);

  afterAll(async () => {
    await sql.end();
    await api.stop();
  }, 60_000);

  beforeEach(async () => {
    await sql.query('DELETE FROM notification_events');
  });

  interface EventRow {
    account: string;
    trigger: string;
    twin: string;
    event: Record<string, { new_value: unknown; old_value: unknown; changed_ts: number }>;
  }
  const events = async (): Promise<EventRow[]> =>
    (await sql.query<EventRow>('SELECT account, trigger, twin, event FROM notification_events ORDER BY id'))
      .rows;

  const putTopic = (party: Party, topic: string, body: unknown) =>
    api.put(`/notifications/topics/${topic}`, { secret: party.secret, body });

  describe('the topics API', () => {
    it('creates, replaces, lists and deletes a topic', async () => {
      const created = await putTopic(alice, 'gates', { triggers: ['identity.created'] });
      expectStatus(created, 200);
      expect(created.body).toMatchObject({
        topic: 'gates',
        account: alice.account,
        triggers: ['identity.created'],
        rule: null,
      });
      const replaced = await putTopic(alice, 'gates', {
        triggers: ['identity.deleted', 'identity.created', 'identity.created'],
        rule: "identity =~ 'RFID#.*'",
      });
      expect(replaced.body).toMatchObject({
        triggers: ['identity.created', 'identity.deleted'],
        rule: "identity =~ 'RFID#.*'",
        created_ts: created.body.created_ts,
      });
      const listed = await api.get('/notifications/topics', { secret: alice.secret });
      expect(Object.keys(listed.body.topics)).toEqual(['gates']);
      expect((await api.get('/notifications/topics', { secret: bob.secret })).body).toEqual({ topics: {} });

      expectStatus(await api.delete('/notifications/topics/gates', { secret: alice.secret }), 200);
      expectErrorShape(
        await api.delete('/notifications/topics/gates', { secret: alice.secret }),
        404,
        'not_found',
      );
    });

    it.each([
      ['an unknown trigger', 'ok', { triggers: ['identity.renamed'] }, 'invalid_trigger'],
      ['no trigger', 'ok', { triggers: [] }, 'invalid_body'],
      [
        'a rule that does not compile',
        'ok',
        { triggers: ['twin.updated'], rule: 'identity ==' },
        'invalid_rule',
      ],
      ['a bad name', 'bad%20name', { triggers: ['twin.updated'] }, 'invalid_topic'],
      ['an unknown attribute', 'ok', { triggers: ['twin.updated'], publish: true }, 'unknown_attribute'],
    ])('refuses %s with 400', async (_what, name, body, subcode) => {
      expectErrorShape(await putTopic(alice, name, body), 400, subcode);
    });

    it("another account's topic is not there for bob", async () => {
      expectStatus(await putTopic(alice, 'private', { triggers: ['twin.updated'] }), 200);
      expectErrorShape(
        await api.delete('/notifications/topics/private', { secret: bob.secret }),
        404,
        'not_found',
      );
      await api.delete('/notifications/topics/private', { secret: alice.secret });
    });
  });

  describe('the outbox', () => {
    beforeAll(async () => {
      expectStatus(
        await putTopic(alice, 'all', {
          triggers: [
            'identity.created',
            'identity.updated',
            'identity.deleted',
            'twin.updated',
            'twin.terminated',
          ],
        }),
        200,
      );
    });

    it('records identity changes made through the API, one event per twin keyed by identity name', async () => {
      const twin = (await aTwin(api, alice)).uuid;
      const [a, b] = [aName(), aName()];
      await attach(api, alice, twin, { [a]: {}, [b]: { validity_ts: 1_900_000_000 } });
      const [created] = await events();
      expect(created).toMatchObject({ account: alice.account, trigger: 'identity.created', twin });
      expect(Object.keys(created.event).sort()).toEqual([a, b].sort());
      expect(created.event[b]).toMatchObject({
        new_value: { visibility: null, validity_ts: 1_900_000_000 },
        old_value: null,
      });

      await sql.query('DELETE FROM notification_events');
      const patched = await api.patch(`/twins/${twin}/identities/${encodeURIComponent(a)}`, {
        secret: alice.secret,
        body: { visibility: 'true' },
      });
      expectStatus(patched, 200);
      const [updated] = await events();
      expect(updated).toMatchObject({ trigger: 'identity.updated', twin });
      expect(updated.event[a]).toMatchObject({
        new_value: { visibility: 'true', validity_ts: null },
        old_value: { visibility: null, validity_ts: null },
      });

      await sql.query('DELETE FROM notification_events');
      expectStatus(
        await api.delete(`/twins/${twin}/identities/${encodeURIComponent(b)}`, { secret: alice.secret }),
        200,
      );
      expect(await events()).toEqual([
        expect.objectContaining({ trigger: 'identity.deleted', twin, event: { [b]: expect.anything() } }),
      ]);
    });

    it('records twin description changes and termination', async () => {
      const twin = (await aTwin(api, alice, { site: 'north' })).uuid;
      expectStatus(
        await api.patch(`/twins/${twin}`, { secret: alice.secret, body: { description: { site: 'south' } } }),
        200,
      );
      const terminated = await terminate(api, alice, twin);
      const rows = await events();
      expect(rows.map((r) => r.trigger)).toEqual(['twin.updated', 'twin.terminated']);
      expect(rows[0].event).toMatchObject({
        description: { new_value: { site: 'south' }, old_value: { site: 'north' } },
      });
      expect(rows[1].event).toMatchObject({
        termination_certificate: { issuer: terminated.termination_certificate?.issuer },
      });
    });

    it('records a plain SQL write, merges one transaction into one event, and keeps nothing of a rollback', async () => {
      const twin = (await aTwin(api, alice)).uuid;
      const insert = `INSERT INTO identities (name, twin, owner, visibility, validity_ts, created_ts, updated_ts, creator)
                      VALUES ($1, $2, $3, NULL, NULL, 1, 1, $3)`;
      await sql.query('BEGIN');
      await sql.query(insert, ['SQL#1', twin, alice.account]);
      await sql.query(insert, ['SQL#2', twin, alice.account]);
      await sql.query('COMMIT');
      const rows = await events();
      expect(rows).toHaveLength(1);
      expect(Object.keys(rows[0].event).sort()).toEqual(['SQL#1', 'SQL#2']);

      await sql.query('DELETE FROM notification_events');
      await sql.query('BEGIN');
      await sql.query(insert, ['SQL#3', twin, alice.account]);
      await sql.query('ROLLBACK');
      expect(await events()).toEqual([]);
    });

    it('writes nothing for an account without topics, nor for a change no topic asks for', async () => {
      const twin = (await aTwin(api, bob)).uuid;
      await attach(api, bob, twin, { [aName()]: {} });
      expect(await events()).toEqual([]);

      const quiet = await api.createAccount('quiet');
      expectStatus(await putTopic(quiet, 'deletions', { triggers: ['identity.deleted'] }), 200);
      const quietTwin = (await aTwin(api, quiet)).uuid;
      await attach(api, quiet, quietTwin, { [aName()]: {} });
      expect(await events()).toEqual([]);
    });
  });
});
