/**
 * Hot-path SQL without the query builder. Measured on the 2-core machine (scripts/bench): a knex
 * transaction of five INSERTs on SQLite takes ~1.9 ms, the same five through one held connection with
 * statements prepared once take ~0.5 ms (fsync included). The send path, which commits one transaction per
 * message, writes through this; everything else stays with knex.
 *
 * Statements use `?` placeholders on both engines (rewritten to `$n` for PostgreSQL, so a literal `?` must
 * not appear in the SQL text). On SQLite each statement is prepared once per connection and reused; on
 * PostgreSQL it becomes a named prepared statement of the connection.
 */
import type { Knex } from 'knex';
import { isSqlite } from './dialect.js';

export interface Sql {
  readonly dialect: 'sqlite' | 'pg';
  /** The rows of a statement that returns rows (SELECT, or a write with RETURNING). */
  all<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Runs a statement that returns no rows; resolves to the number of rows it changed. */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
}

/**
 * Runs `fn` in one transaction on a connection of `db`'s pool, held until COMMIT or ROLLBACK (so no other
 * query of this process interleaves on SQLite's single connection). Throwing from `fn` rolls back.
 */
export async function sqlTransaction<T>(db: Knex, fn: (sql: Sql) => Promise<T>): Promise<T> {
  const client = db.client as KnexClient;
  const connection = await client.acquireConnection();
  const sql = isSqlite(db)
    ? new SqliteSql(connection as SqliteConnection)
    : new PgSql(connection as PgConnection);
  try {
    // IMMEDIATE takes SQLite's write lock at once: a second process waits (busy_timeout) instead of failing
    // at its first write with a lock it cannot upgrade.
    await sql.run(sql.dialect === 'sqlite' ? 'BEGIN IMMEDIATE' : 'BEGIN');
    let result: T;
    try {
      result = await fn(sql);
      await sql.run('COMMIT');
    } catch (err) {
      await sql.run('ROLLBACK').catch(() => undefined);
      throw err;
    }
    return result;
  } finally {
    await client.releaseConnection(connection);
  }
}

/** Finalizes the statements prepared on a SQLite connection (it cannot close while any is open). */
export async function finalizeStatements(connection: unknown): Promise<void> {
  const cache = statementCaches.get(connection as SqliteConnection);
  if (!cache) return;
  statementCaches.delete(connection as SqliteConnection);
  await Promise.all([...cache.values()].map((s) => new Promise<void>((r) => s.finalize(() => r()))));
}

// ---- SQLite (node-sqlite3) ----------------------------------------------------------------------------

interface SqliteStatement {
  run(params: unknown[], cb: (this: { changes: number }, err: Error | null) => void): void;
  all(params: unknown[], cb: (err: Error | null, rows: unknown[]) => void): void;
  finalize(cb: () => void): void;
}

interface SqliteConnection {
  prepare(sql: string, cb: (err: Error | null) => void): SqliteStatement;
}

const statementCaches = new WeakMap<SqliteConnection, Map<string, SqliteStatement>>();

class SqliteSql implements Sql {
  readonly dialect = 'sqlite' as const;
  private readonly statements: Map<string, SqliteStatement>;

  constructor(private readonly connection: SqliteConnection) {
    let cache = statementCaches.get(connection);
    if (!cache) statementCaches.set(connection, (cache = new Map<string, SqliteStatement>()));
    this.statements = cache;
  }

  all<T>(text: string, params: readonly unknown[] = []): Promise<T[]> {
    return this.prepared(text).then(
      (statement) =>
        new Promise<T[]>((resolve, reject) =>
          statement.all([...params], (err, rows) => (err ? reject(err) : resolve(rows as T[]))),
        ),
    );
  }

  run(text: string, params: readonly unknown[] = []): Promise<number> {
    return this.prepared(text).then(
      (statement) =>
        new Promise<number>((resolve, reject) =>
          statement.run([...params], function (err) {
            if (err) reject(err);
            else resolve(this.changes);
          }),
        ),
    );
  }

  /** The statement for `text`, prepared on first use; a statement that fails to prepare is not cached. */
  private prepared(text: string): Promise<SqliteStatement> {
    const cached = this.statements.get(text);
    if (cached) return Promise.resolve(cached);
    return new Promise((resolve, reject) => {
      const statement = this.connection.prepare(text, (err) => {
        if (err) return reject(err);
        this.statements.set(text, statement);
        resolve(statement);
      });
    });
  }
}

// ---- PostgreSQL (node-postgres) -------------------------------------------------------------------------

interface PgConnection {
  query(config: { name?: string; text: string; values: unknown[] }): Promise<{
    rows: unknown[];
    rowCount: number | null;
  }>;
}

/** SQL text → [statement name, text with $n placeholders]; names are per process, prepared per connection. */
const pgStatements = new Map<string, [string, string]>();

class PgSql implements Sql {
  readonly dialect = 'pg' as const;

  constructor(private readonly connection: PgConnection) {}

  async all<T>(text: string, params: readonly unknown[] = []): Promise<T[]> {
    return (await this.query(text, params)).rows as T[];
  }

  async run(text: string, params: readonly unknown[] = []): Promise<number> {
    return (await this.query(text, params)).rowCount ?? 0;
  }

  private query(text: string, params: readonly unknown[]) {
    if (params.length === 0) return this.connection.query({ text, values: [] });
    let entry = pgStatements.get(text);
    if (!entry) {
      let n = 0;
      entry = [`axon_${pgStatements.size}`, text.replace(/\?/g, () => `$${++n}`)];
      pgStatements.set(text, entry);
    }
    return this.connection.query({ name: entry[0], text: entry[1], values: [...params] });
  }
}

interface KnexClient {
  acquireConnection(): Promise<unknown>;
  releaseConnection(connection: unknown): Promise<void>;
}
