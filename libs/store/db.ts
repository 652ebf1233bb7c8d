import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Pool, type PoolClient, type QueryResultRow } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
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
  // statement_timeout: the database is too slow to answer within the deadline, which a caller meets as unavailable.
  '57014',
]);

export function isConnectionError(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  if (err?.code && UNAVAILABLE_CODES.has(err.code)) return true;
  return (
    typeof err?.message === 'string' &&
    /Connection terminated|timeout exceeded when trying to connect|Query read timeout|timeout expired|not queryable/i.test(
      err.message,
    )
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
  /** `COPY … FROM STDIN` fed from a stream (import staging). */
  copyFrom(copySql: string, source: Readable): Promise<void>;
  /** Runs `then` once the transaction has committed, before `Db.transaction` returns; never if it rolls back. */
  afterCommit(then: () => void): void;
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
    // A checked-out client that loses its server between two statements emits 'error' (the pool listens only to
    // idle ones); unheard, that would crash the process. The next statement reports the loss instead.
    let lost: Error | undefined;
    const onError = (e: Error) => (lost = e);
    client.on('error', onError);
    const committed: Array<() => void> = [];
    const tx: TransactionQueryable = {
      query: async <R extends QueryResultRow>(sql: string, params?: unknown[]) =>
        (await client.query<R>(sql, params)).rows,
      // Named statements are parsed and planned once per pooled connection (a twin reconcile runs the same few).
      prepared: async <R extends QueryResultRow>(name: string, sql: string, params: unknown[]) =>
        (await client.query<R>({ name, text: sql, values: params })).rows,
      copyFrom: async (copySql, source) => {
        await pipeline(source, client.query(copyFrom(copySql)));
      },
      afterCommit: (then) => void committed.push(then),
    };
    let broken: Error | undefined;
    let out: T;
    try {
      await client.query('BEGIN');
      out = await work(tx);
      await client.query('COMMIT');
    } catch (e) {
      // A connection that timed out or broke may still have a query in flight: it must not go back to the pool,
      // and a ROLLBACK on it would only wait out another deadline (the server ends the transaction on its own:
      // idle_in_transaction_session_timeout, or the closed socket).
      if (isConnectionError(e) || lost) broken = lost ?? (e as Error);
      else await client.query('ROLLBACK').catch((r: unknown) => (broken = r as Error));
      return translate(e);
    } finally {
      client.off('error', onError);
      client.release(broken ?? lost);
    }
    for (const then of committed) then();
    return out;
  }
}

/** The deadlines every PostgreSQL connection of a process gets (libs/config: DATABASE_*_TIMEOUT_MS). */
export interface PgDeadlines {
  /** Waiting for a pooled connection, or opening one (TCP + startup + authentication). */
  connectTimeoutMs: number;
  /** Server-side `statement_timeout`; the client gives up a little later (a partition never answers at all). */
  statementTimeoutMs: number;
  /** Server-side `idle_in_transaction_session_timeout`: a transaction left open by a lost client ends. */
  idleInTransactionTimeoutMs: number;
  /** TCP keepalive delay, so that a dead peer is noticed by the kernel even on idle connections. */
  keepAliveMs: number;
}

/** The client gives the server this long past its own statement_timeout to report the cancellation itself. */
const CLIENT_GRACE_MS = 500;

export function connectionOptions(d: PgDeadlines) {
  return {
    connectionTimeoutMillis: d.connectTimeoutMs,
    statement_timeout: d.statementTimeoutMs,
    query_timeout: d.statementTimeoutMs + CLIENT_GRACE_MS,
    idle_in_transaction_session_timeout: d.idleInTransactionTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: d.keepAliveMs,
  };
}

/** Deadlines from the configuration; the worker runs longer statements (import merges) than requests do. */
export function deadlinesFrom(
  config: {
    DATABASE_CONNECT_TIMEOUT_MS: number;
    DATABASE_STATEMENT_TIMEOUT_MS: number;
    WORKER_DATABASE_STATEMENT_TIMEOUT_MS: number;
    DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: number;
    DATABASE_KEEPALIVE_MS: number;
  },
  role: 'api' | 'worker' = 'api',
): PgDeadlines {
  return {
    connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS,
    statementTimeoutMs:
      role === 'worker' ? config.WORKER_DATABASE_STATEMENT_TIMEOUT_MS : config.DATABASE_STATEMENT_TIMEOUT_MS,
    idleInTransactionTimeoutMs: config.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    keepAliveMs: config.DATABASE_KEEPALIVE_MS,
  };
}

export function createPool(url: string, max: number, deadlines: PgDeadlines): Pool {
  const pool = new Pool({
    connectionString: url,
    max,
    idleTimeoutMillis: 30_000,
    ...connectionOptions(deadlines),
  });
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  return pool;
}
