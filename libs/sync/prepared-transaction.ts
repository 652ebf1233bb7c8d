import type { PoolClient, QueryResultRow } from 'pg';
import { TwindexError } from '../domain/errors.js';
import { type Db, isConnectionError, type Queryable } from '../store/db.js';

/** A transaction that can also run named statements (parsed and planned once per connection). */
export interface PreparedQueryable extends Queryable {
  prepared<R extends QueryResultRow>(name: string, sql: string, params: unknown[]): Promise<R[]>;
}

/**
 * Db.transaction with named statements: a twin reconcile runs the same handful of statements thousands of times per
 * run, and parsing and planning them each time costs more than the work itself.
 */
export async function preparedTransaction<T>(
  db: Db,
  work: (tx: PreparedQueryable) => Promise<T>,
): Promise<T> {
  let client: PoolClient;
  try {
    client = await db.pool.connect();
  } catch (e) {
    return unavailable(e);
  }
  const tx: PreparedQueryable = {
    query: async <R extends QueryResultRow>(sql: string, params?: unknown[]) =>
      (await client.query<R>(sql, params)).rows,
    prepared: async <R extends QueryResultRow>(name: string, sql: string, params: unknown[]) =>
      (await client.query<R>({ name, text: sql, values: params })).rows,
  };
  try {
    await client.query('BEGIN');
    const out = await work(tx);
    await client.query('COMMIT');
    return out;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    return unavailable(e);
  } finally {
    client.release();
  }
}

function unavailable(e: unknown): never {
  if (isConnectionError(e))
    throw new TwindexError('unavailable', 'database_unavailable', 'The database is unreachable');
  throw e;
}
