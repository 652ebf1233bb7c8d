import type { Pool } from 'pg';
import { CommittedChanges } from './committed-changes.js';
import { Db } from './db.js';

/** A pool with one client that records its statements and can be told to fail one of them. */
function fakePool(failOn?: string): { pool: Pool; statements: string[] } {
  const statements: string[] = [];
  const client = {
    on: () => undefined,
    off: () => undefined,
    release: () => undefined,
    query: async (sql: string) => {
      statements.push(sql);
      if (sql === failOn) throw new Error(`refused: ${sql}`);
      return { rows: [] };
    },
  };
  return { pool: { connect: async () => client } as unknown as Pool, statements };
}

describe('CommittedChanges', () => {
  it('lets listeners hear what a transaction changed after its COMMIT and before it returns', async () => {
    const { pool, statements } = fakePool();
    const changes = new CommittedChanges();
    const heard: string[] = [];
    changes.listen('identities', (names) => heard.push(`${statements.at(-1)}: ${names.join(',')}`));
    changes.listen('twins', (uuids) => heard.push(`twins ${uuids.join(',')}`));
    const answer = await new Db(pool).transaction(async (tx) => {
      await tx.query('UPDATE identities');
      changes.changed(tx, 'identities', ['a', 'b']);
      expect(heard).toEqual([]);
      return 'answer';
    });
    expect(answer).toBe('answer');
    expect(heard).toEqual(['COMMIT: a,b']);
  });

  it('reports nothing for a transaction that rolls back or fails to commit', async () => {
    const changes = new CommittedChanges();
    const heard: string[] = [];
    changes.listen('twins', (uuids) => heard.push(...uuids));
    const rolledBack = fakePool();
    await expect(
      new Db(rolledBack.pool).transaction(async (tx) => {
        changes.changed(tx, 'twins', ['t1']);
        throw new Error('bad input');
      }),
    ).rejects.toThrow('bad input');
    const refused = fakePool('COMMIT');
    await expect(
      new Db(refused.pool).transaction(async (tx) => changes.changed(tx, 'twins', ['t2'])),
    ).rejects.toThrow('refused');
    expect(rolledBack.statements).toContain('ROLLBACK');
    expect(heard).toEqual([]);
  });

  it('costs a writer nothing when no cache listens', async () => {
    const { pool } = fakePool();
    const changes = new CommittedChanges();
    await new Db(pool).transaction(async (tx) => {
      let registered = 0;
      changes.changed({ ...tx, afterCommit: () => registered++ }, 'identities', ['a']);
      expect(registered).toBe(0);
    });
  });

  it('tells the listeners of a statement that committed on its own at once, and only those of its kind', () => {
    const changes = new CommittedChanges();
    const heard: string[] = [];
    changes.listen('accounts', (accounts) => heard.push(...accounts.map((a) => `account ${a}`)));
    changes.listen('twins', (uuids) => heard.push(...uuids.map((u) => `twin ${u}`)));
    changes.changedNow('accounts', ['acc']);
    changes.changedNow('accounts', []);
    expect(heard).toEqual(['account acc']);
  });
});
