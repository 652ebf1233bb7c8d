import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { aTwin, resolve } from './support/factories.js';
import { type TestAccount, TestApi } from './support/test-app.js';

/**
 * Synced grants (docs/sync.md): an upstream identity owned by another account, stored for a source's account with
 * include_foreign, is visible to that account alone — never personal to, or visible through, the owner it names.
 */
describe('synced grants in resolution and listing', () => {
  let api: TestApi;
  let db: pg.Client;
  let grantee: TestAccount;
  let owner: TestAccount;
  let stranger: TestAccount;
  let twin: string;
  const name = 'RFID#granted-1';
  const expiredName = 'RFID#granted-expired';

  async function grant(identity: string, validityTs: number | null): Promise<void> {
    const now = Date.now() / 1000;
    await db.query(
      `INSERT INTO identity_grants (name, twin, owner, grantee, source, validity_ts, created_ts, updated_ts)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`,
      [identity, twin, owner.account, grantee.account, randomUUID(), validityTs, now],
    );
  }

  beforeAll(async () => {
    api = await TestApi.start();
    db = new pg.Client({ connectionString: api.config.DATABASE_URL });
    await db.connect();
    grantee = await api.createAccount('grantee');
    owner = await api.createAccount('owner');
    stranger = await api.createAccount('stranger');
    twin = (await aTwin(api, grantee)).uuid;
    // Cache the negative answers first, so the test also shows the grant's notification evicting them.
    expect(await resolve(api, grantee, name, { context: 'system' })).toEqual([]);
    await grant(name, null);
    await grant(expiredName, Date.now() / 1000 - 10);
  });

  afterAll(async () => {
    await db.end();
    await api.stop();
  });

  async function eventually(check: () => Promise<boolean>): Promise<void> {
    const started = Date.now();
    while (!(await check())) {
      if (Date.now() - started > 1000) throw new Error('not within 1 s');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it('resolves for its grantee in system context and in the owner account context, not in personal', async () => {
    await eventually(async () => (await resolve(api, grantee, name, { context: 'system' })).length === 1);
    expect(await resolve(api, grantee, name, { context: 'system' })).toEqual([twin]);
    expect(await resolve(api, grantee, name, { context: owner.account })).toEqual([twin]);
    expect(await resolve(api, grantee, name)).toEqual([]);
  });

  it('never resolves for the account it names as owner, nor for anyone else', async () => {
    for (const caller of [owner, stranger]) {
      for (const context of ['personal', 'system', owner.account]) {
        expect(await resolve(api, caller, name, { context })).toEqual([]);
      }
    }
  });

  it('stops resolving once expired', async () => {
    expect(await resolve(api, grantee, expiredName, { context: 'system' })).toEqual([]);
  });

  it('is listed among the grantee’s foreign identities, under its owner and without a rule', async () => {
    const res = await api.get(`/twins/${twin}/identities`, {
      secret: grantee.secret,
      query: { show_foreign: 'true' },
    });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.accounts)).toEqual([owner.account]);
    expect(Object.keys(res.body.accounts[owner.account])).toEqual([name]);
    expect(res.body.accounts[owner.account][name]).not.toHaveProperty('visibility');
    const personalOnly = await api.get(`/twins/${twin}/identities`, { secret: grantee.secret });
    expect(personalOnly.body.accounts).toEqual({});
  });
});
