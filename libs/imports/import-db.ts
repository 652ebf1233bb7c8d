import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Pool, type PoolClient, type QueryResultRow } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { TwindexError } from '../domain/errors.js';
import { isConnectionError, type Queryable } from '../store/db.js';

/** Injection token of the imports' own pool (API): staging never takes a connection of the request pool. */
export const IMPORT_DB = Symbol('IMPORT_DB');

/** A staging transaction: plain queries and `COPY … FROM STDIN` fed from a stream. */
export interface ImportTx extends Queryable {
  copyFrom(copySql: string, source: Readable): Promise<void>;
}

const unavailable = () =>
  new TwindexError('unavailable', 'database_unavailable', 'The database is unreachable');

/**
 * The pool imports stage through (`IMPORT_POOL_SIZE` connections). A connection is taken only once the body is
 * spooled, so it is held for as long as the database takes to load the rows, never for a client's upload.
 */
export class ImportDb {
  constructor(readonly pool: Pool) {}

  async transaction<T>(work: (tx: ImportTx) => Promise<T>): Promise<T> {
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw isConnectionError(e) ? unavailable() : e;
    }
    const tx: ImportTx = {
      query: async <R extends QueryResultRow>(sql: string, params?: unknown[]) =>
        (await client.query<R>(sql, params)).rows,
      copyFrom: async (copySql, source) => {
        await pipeline(source, client.query(copyFrom(copySql)));
      },
    };
    let broken = false;
    try {
      await client.query('BEGIN');
      const out = await work(tx);
      await client.query('COMMIT');
      return out;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw isConnectionError(e) ? unavailable() : e;
    } finally {
      // A connection whose COPY was cut off mid-stream is not handed to the next import.
      client.release(broken);
    }
  }
}
