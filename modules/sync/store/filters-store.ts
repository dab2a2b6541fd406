/** The only code that touches `sync_filters`. */
import type { Knex } from 'knex';
import { fromJsonColumn, toJsonColumn, toNumber } from '../../../core/storage/dialect.js';
import type { Queryable } from '../../../core/storage/transaction.js';

export class FiltersStore {
  private readonly db: Knex;

  constructor({ db }: { db: Knex }) {
    this.db = db;
  }

  async insert(userId: string, filter: unknown, trx?: Queryable): Promise<string> {
    const rows: unknown[] = await (trx ?? this.db)('sync_filters')
      .insert({ user_id: userId, filter_json: toJsonColumn(filter) })
      .returning('id');
    const row = rows[0] as { id: string | number } | string | number | undefined;
    const id = typeof row === 'object' ? row.id : row;
    return String(toNumber(id));
  }

  /** The filter, or undefined when the id is unknown or belongs to someone else. */
  async get(userId: string, filterId: string, trx?: Queryable): Promise<unknown> {
    if (!/^\d{1,15}$/.test(filterId)) return undefined;
    const found: unknown = await (trx ?? this.db)('sync_filters')
      .where({ id: Number(filterId), user_id: userId })
      .first('filter_json');
    const row = found as { filter_json: string } | undefined;
    return row ? fromJsonColumn<unknown>(row.filter_json) : undefined;
  }
}
