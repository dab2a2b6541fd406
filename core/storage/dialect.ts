/**
 * The few real differences between SQLite and PostgreSQL, in one place (Synapse's .sql.sqlite/.sql.postgres
 * idea kept small). Everything else is portable knex.
 */
import type { Knex } from 'knex';
import { canonicalJson } from '../protocol/canonical-json.js';

export function isSqlite(db: Knex): boolean {
  return (db.client as { config: Knex.Config }).config.client === 'sqlite3';
}

/** JSON is stored as text on both engines so that bytes round-trip exactly (canonical JSON matters). */
export function toJsonColumn(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (err) {
    // A bigint (an integer beyond 2^53 in a v1–5 event, parsed losslessly) is written with every digit.
    if (err instanceof TypeError && typeof value === 'object') return canonicalJson(value, { strict: false });
    throw err;
  }
}

export function fromJsonColumn<T>(text: string | null | undefined): T | undefined {
  return text == null ? undefined : (JSON.parse(text) as T);
}

/** pg returns bigint columns as strings; positions fit in a double. */
export function toNumber(value: string | number | bigint | null | undefined): number {
  return value == null ? 0 : Number(value);
}

/** `SELECT … FOR UPDATE` where the engine has it; SQLite's single writer already serialises. */
export function forUpdate<T extends Knex.QueryBuilder>(db: Knex, query: T): T {
  return isSqlite(db) ? query : (query.forUpdate() as T);
}
