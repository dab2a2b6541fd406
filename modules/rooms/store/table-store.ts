/**
 * What every rooms store shares: the database, a hot read in plain SQL, and "in the caller's fast
 * transaction or in one of its own". The rooms stores split the module's tables by job, one store per table
 * group (ARCHITECTURE.md "Storage"):
 *
 *   room-store.ts        rooms_rooms: the room row and its head (last_stream, extremities, state group)
 *   event-store.ts       rooms_events + rooms_event_edges: writing events, reading them by id
 *   timeline-store.ts    rooms_events read in stream / topological order, state history
 *   relation-store.ts    rooms_events read by relation: children, threads, bundles
 *   state-store.ts       rooms_state_groups(+_entries), rooms_current_state
 *   membership-store.ts  rooms_memberships
 *   txn-store.ts         rooms_txns
 *
 * The send path writes through the `Sql` of one fast transaction (core/storage/sql.ts, the one documented
 * exception to "knex only"), so each table's prepared statements sit beside that table's knex reads. Reads
 * take an optional knex `trx`.
 */
import type { Knex } from 'knex';
import type { Cradle } from '../../../core/container.js';
import { sqlQuery, sqlTransaction, type Sql } from '../../../core/storage/sql.js';
import type { Queryable } from '../../../core/storage/transaction.js';

export abstract class RoomsTableStore {
  protected readonly db: Knex;

  constructor({ db }: Pick<Cradle, 'db'>) {
    this.db = db;
  }

  /**
   * A hot read in plain SQL: through the fast path (prepared statement, no query builder) unless the caller
   * holds a knex transaction, which then runs it.
   */
  protected async select<T>(trx: Queryable, text: string, params: readonly unknown[]): Promise<T[]> {
    if (trx === this.db) return sqlQuery<T>(this.db, text, params);
    const result: unknown = await trx.raw(text, params as Knex.RawBinding[]);
    return (Array.isArray(result) ? result : ((result as { rows?: unknown[] }).rows ?? [])) as T[];
  }

  /** Runs `fn` in the caller's fast transaction, or in one of its own. */
  protected write<T>(sql: Sql | undefined, fn: (sql: Sql) => Promise<T>): Promise<T> {
    return sql ? fn(sql) : sqlTransaction(this.db, fn);
  }
}

/** SQLite's constraint message of a failed one-call statement ('' for anything else). */
export function constraintMessage(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown } | null;
  return e && e.code === 'SQLITE_CONSTRAINT' && typeof e.message === 'string' ? e.message : '';
}
