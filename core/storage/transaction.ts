import type { Knex } from 'knex';

/** A knex handle that may be the database or a transaction in progress; every store method accepts one. */
export type Queryable = Knex | Knex.Transaction;

/**
 * Runs `fn` in one transaction, or inside the caller's transaction when one is given, so that writes that
 * belong together commit together or not at all.
 */
export async function withTransaction<T>(
  db: Queryable,
  fn: (trx: Knex.Transaction) => Promise<T>,
): Promise<T> {
  if (db.isTransaction) return fn(db as Knex.Transaction);
  return (db as Knex).transaction(fn);
}
