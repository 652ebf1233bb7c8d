import type { Queryable } from './db.js';

/**
 * A transaction-level advisory lock per account over the deletion of its twins (docs/imports.md, "Integrity without
 * a per-row key"). An import batch holds it shared while it attaches identities to the account's twins: one lock
 * per batch instead of a lock per twin. The one twin delete (removeOrphanSyncedTwins) holds it exclusive, so it waits
 * for the batches in flight and the batches after it see the twins it deleted. In memory, like the sync locks: no
 * row is written for it. Taken by accounts in UUID order where several are taken.
 */
export async function lockAccountTwins(
  tx: Queryable,
  account: string,
  mode: 'shared' | 'exclusive',
): Promise<void> {
  const fn = mode === 'shared' ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock';
  await tx.query(`SELECT ${fn}(hashtextextended($1, 7260))`, [`account-twins ${account}`]);
}
