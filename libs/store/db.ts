import { Pool, type PoolClient, type QueryResultRow } from 'pg';
import { TwindexError } from '../domain/errors.js';

// Errors that mean "PostgreSQL is not there right now", as opposed to a bad statement.
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
  '53300',
]);

export function isConnectionError(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  if (err?.code && UNAVAILABLE_CODES.has(err.code)) return true;
  return (
    typeof err?.message === 'string' &&
    /Connection terminated|timeout exceeded when trying to connect/i.test(err.message)
  );
}

function translate(e: unknown): never {
  if (isConnectionError(e))
    throw new TwindexError('unavailable', 'database_unavailable', 'The database is unreachable');
  throw e;
}

export interface Queryable {
  query<R extends QueryResultRow>(sql: string, params?: unknown[]): Promise<R[]>;
}

/** A transaction's handle: plain queries, and named statements for work that repeats the same few thousands of times. */
export interface TransactionQueryable extends Queryable {
  prepared<R extends QueryResultRow>(name: string, sql: string, params: unknown[]): Promise<R[]>;
}

/** A thin layer over the pg pool: rows out, connection loss turned into a 503-kind error. */
export class Db implements Queryable {
  constructor(readonly pool: Pool) {}

  async query<R extends QueryResultRow>(sql: string, params?: unknown[]): Promise<R[]> {
    try {
      return (await this.pool.query<R>(sql, params)).rows;
    } catch (e) {
      return translate(e);
    }
  }

  /** Named statements are parsed and planned once per connection; used on the hot path. */
  async prepared<R extends QueryResultRow>(name: string, sql: string, params: unknown[]): Promise<R[]> {
    try {
      return (await this.pool.query<R>({ name, text: sql, values: params })).rows;
    } catch (e) {
      return translate(e);
    }
  }

  async transaction<T>(work: (tx: TransactionQueryable) => Promise<T>): Promise<T> {
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      return translate(e);
    }
    const tx: TransactionQueryable = {
      query: async <R extends QueryResultRow>(sql: string, params?: unknown[]) =>
        (await client.query<R>(sql, params)).rows,
      // Named statements are parsed and planned once per pooled connection (a twin reconcile runs the same few).
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
      return translate(e);
    } finally {
      client.release();
    }
  }
}

export function createPool(url: string, max: number): Pool {
  const pool = new Pool({
    connectionString: url,
    max,
    connectionTimeoutMillis: 3000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  return pool;
}
