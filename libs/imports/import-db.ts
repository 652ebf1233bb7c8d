import { Db, type TransactionQueryable } from '../store/db.js';

/** Injection token of the imports' own pool (API): staging never takes a connection of the request pool. */
export const IMPORT_DB = Symbol('IMPORT_DB');

/** A staging transaction: plain queries and `COPY … FROM STDIN` fed from a stream. */
export type ImportTx = TransactionQueryable;

/**
 * The pool imports stage through (`IMPORT_POOL_SIZE` connections). A connection is taken only once the body is
 * spooled, so it is held for as long as the database takes to load the rows, never for a client's upload. Its
 * transactions are `Db`'s: the same deadlines, the same handling of a connection lost mid-transaction.
 */
export class ImportDb extends Db {}
