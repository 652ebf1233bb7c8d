import { Injectable } from '@nestjs/common';
import type { TransactionQueryable } from './db.js';

/**
 * What a commit changed, by the key each cache uses: identity names, twin UUIDs, and the accounts whose access data
 * (the account, its roles, users, secrets, permissions) changed — the principal cache's key.
 */
export type ChangedRows = 'identities' | 'twins' | 'accounts';

type Listener = (keys: readonly string[]) => void;

/**
 * The writing process's own side of cache coherence. The database triggers tell every process what a commit
 * changed (libs/cache/change-feed.ts), but that message arrives some time after the commit, and the process that
 * wrote must not answer from rows it has just replaced. So the writers (IdentityRepository, TwinRepository, the
 * access repositories of libs/access) report
 * here what they change, inside the transaction; whoever listens (the caches of this process) hears it after the
 * commit and before `Db.transaction` returns, so before the write is answered. A rolled-back write reports nothing.
 * Without a listener (the worker, the command line) reporting costs nothing.
 */
@Injectable()
export class CommittedChanges {
  private readonly listeners: Record<ChangedRows, Listener[]> = { identities: [], twins: [], accounts: [] };

  listen(rows: ChangedRows, listener: Listener): void {
    this.listeners[rows].push(listener);
  }

  /** Called by a writer: `keys` of `rows` change in `tx`; the listeners hear them once it commits. */
  changed(tx: TransactionQueryable, rows: ChangedRows, keys: readonly string[]): void {
    const listeners = this.listeners[rows];
    if (listeners.length === 0 || keys.length === 0) return;
    tx.afterCommit(() => {
      for (const listener of listeners) listener(keys);
    });
  }

  /** Called by a writer after a statement that committed on its own (no transaction): the listeners hear it now. */
  changedNow(rows: ChangedRows, keys: readonly string[]): void {
    if (keys.length === 0) return;
    for (const listener of this.listeners[rows]) listener(keys);
  }
}
