import { notFound } from '../domain/errors.js';
import type { Db, TransactionQueryable } from '../store/db.js';
import { AccountRows } from './account-rows.js';
import { CommittedChanges } from '../store/committed-changes.js';

/** What happened, in order: the statements run, the commit, and each eviction. */
function recordingDb(found: Record<string, unknown> | undefined, log: string[]): Db {
  const committed: Array<() => void> = [];
  const tx = {
    afterCommit: (then: () => void) => committed.push(then),
    query: (sql: string) => {
      log.push(sql.split(' ')[0]);
      return Promise.resolve(sql.startsWith('SELECT') && found ? [found] : []);
    },
  } as unknown as TransactionQueryable;
  return {
    query: (sql: string) => tx.query(sql),
    transaction: async <T>(work: (t: TransactionQueryable) => Promise<T>): Promise<T> => {
      const result = await work(tx);
      log.push('COMMIT');
      committed.splice(0).forEach((then) => then());
      return result;
    },
  } as unknown as Db;
}

function setup(found: Record<string, unknown> | undefined) {
  const log: string[] = [];
  const changes = new CommittedChanges();
  changes.listen('accounts', (accounts) => accounts.forEach((a) => log.push(`evict ${a}`)));
  const rows = new AccountRows<{ uuid: string }>(recordingDb(found, log), changes, {
    table: 'roles',
    key: 'uuid',
    columns: 'uuid',
    missing: () => notFound('Role'),
  });
  return { rows, log };
}

describe('AccountRows: the writer evicts cached principals', () => {
  it('after the commit of a locked write, before answering', async () => {
    const { rows, log } = setup({ uuid: 'r' });
    const answer = await rows.lockedWrite('acc', 'r', async (current, tx) => {
      await tx.query('UPDATE roles …');
      return current.uuid;
    });
    expect(answer).toBe('r');
    expect(log).toEqual(['SELECT', 'UPDATE', 'COMMIT', 'evict acc']);
  });

  it('not when the write is refused, nor when the account has no such row (404)', async () => {
    const refused = setup({ uuid: 'r' });
    await expect(
      refused.rows.lockedWrite('acc', 'r', () => Promise.reject(new Error('refused'))),
    ).rejects.toThrow('refused');
    expect(refused.log).not.toContain('evict acc');

    const missing = setup(undefined);
    await expect(missing.rows.lockedWrite('acc', 'r', () => Promise.resolve(1))).rejects.toMatchObject({
      kind: 'not_found',
    });
    expect(missing.log).toEqual(['SELECT']);
  });

  it('after a single statement outside a transaction', async () => {
    const { rows, log } = setup(undefined);
    await rows.write(
      'acc',
      Promise.resolve().then(() => log.push('DELETE')),
    );
    expect(log).toEqual(['DELETE', 'evict acc']);
  });
});
