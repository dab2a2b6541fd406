/**
 * Hot-path SQL without the query builder: THE one exception to "storage goes through knex"
 * (ARCHITECTURE.md "Storage": prepared statements on a hot path, through one helper in core/storage/).
 *
 * Why, measured on the 2-core machine (scripts/bench, SQLite):
 * - a knex transaction of five INSERTs takes ~1.9 ms; the same five on one held connection with
 *   statements prepared once take ~0.5 ms, fsync included (`sqlTransaction`);
 * - the send path's whole transaction as one call into the driver drops from ~1.2 ms to ~0.45 ms
 *   (`sqlBatchTransaction`); the send benchmark (`npx tsx scripts/bench/send-bench.ts --engine sqlite`)
 *   is where a change here shows;
 * - a sync's per-room timeline read skips knex's query building (`sqlQuery`).
 *
 * The rules:
 * 1. Only for a measured hot path: the send path's writes (rooms, and the rows push rules commit with
 *    each event) and a few per-request reads of sync. Everything else uses knex. A new use states its
 *    figure in a comment where it is used.
 * 2. The SQL lives in the store that owns the table, beside that table's knex methods (e.g.
 *    modules/rooms/store/event-store.ts `insertEventStatement` next to `getEvent`), never in a service.
 * 3. One SQL text for both engines: `?` placeholders (rewritten to `$n` for PostgreSQL, so a literal `?`
 *    must not appear in the text) and syntax both accept (`ON CONFLICT`, `RETURNING`).
 * 4. Every behaviour here is tested on both engines (tests/integration/core/sql-transaction.test.ts), and
 *    every store that uses it runs its tests through tests/helpers/with-all-databases.ts.
 * 5. It reaches into knex's client for a pooled connection (`acquireConnection`/`releaseConnection`, not
 *    public API): the pool, its size and its after-create hooks (WAL, foreign keys, busy timeout) stay
 *    knex's; this file only borrows a connection and always gives it back. A knex upgrade must re-run the
 *    test above.
 *
 * On SQLite each statement is prepared once per connection and reused (bounded cache); on PostgreSQL it
 * becomes a named prepared statement of the connection (bounded likewise).
 */
import type { Knex } from 'knex';
import { isSqlite } from './dialect.js';

/** A statement whose result nobody needs: SQL text with `?` placeholders, and its parameters. */
export type SqlStatement = readonly [text: string, params: readonly unknown[]];

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
export function sqlTransaction<T>(db: Knex, fn: (sql: Sql) => Promise<T>): Promise<T> {
  return withConnection(db, (sql) => inTransaction(sql, () => fn(sql)));
}

/**
 * Runs the statements `plan` returns, in order, as one transaction, and resolves with its `result` once
 * committed; any failure rolls the whole transaction back and rejects with the failing statement's error.
 * `plan` runs with the connection already held — on SQLite nothing else of this process writes until the
 * transaction ends, so a plan may rely on what it knows of the database (the send path picks stream
 * orderings) — and `onCommit` runs after COMMIT, still holding it.
 *
 * On SQLite the transaction is one call into the driver: BEGIN, every statement with its parameters written
 * as SQL literals, COMMIT. It costs one trip to the driver's thread instead of one per statement (the send
 * path's transaction drops from ~1.2 ms to ~0.45 ms on the 2-core machine). A parameter that cannot be
 * written as an exact literal (a string holding NUL, a number that is not a safe integer, anything but
 * strings, numbers, booleans and null) makes it fall back to prepared statements, as PostgreSQL always does.
 */
export function sqlBatchTransaction<T>(
  db: Knex,
  plan: () => { statements: readonly SqlStatement[]; result: T },
  onCommit?: (result: T) => void,
): Promise<T> {
  return withConnection(db, async (sql, connection) => {
    const { statements, result } = plan();
    const script = sql.dialect === 'sqlite' ? sqliteScript(statements) : undefined;
    if (script === undefined) {
      await inTransaction(sql, async () => {
        for (const [text, params] of statements) await sql.run(text, params);
      });
    } else {
      const sqlite = connection as SqliteConnection;
      const exec = (text: string): Promise<void> =>
        new Promise((resolve, reject) => sqlite.exec(text, (err) => (err ? reject(err) : resolve())));
      try {
        await exec(script);
      } catch (err) {
        // The script stopped at the failing statement with the transaction open (or never began it).
        await exec('ROLLBACK').catch(() => undefined);
        throw err;
      }
    }
    onCommit?.(result);
    return result;
  });
}

/**
 * One read through the fast path (a held connection and a prepared statement, no transaction): for the
 * few hot reads of the sync and send paths, where knex's query building costs more than SQLite's work.
 */
export function sqlQuery<T = Record<string, unknown>>(
  db: Knex,
  text: string,
  params: readonly unknown[] = [],
): Promise<T[]> {
  return withConnection(db, (sql) => sql.all<T>(text, params));
}

async function withConnection<T>(db: Knex, fn: (sql: Sql, connection: unknown) => Promise<T>): Promise<T> {
  const client = db.client as KnexClient;
  const connection = await client.acquireConnection();
  const sql = isSqlite(db)
    ? new SqliteSql(connection as SqliteConnection)
    : new PgSql(connection as PgConnection);
  try {
    return await fn(sql, connection);
  } finally {
    await client.releaseConnection(connection);
  }
}

async function inTransaction<T>(sql: Sql, fn: () => Promise<T>): Promise<T> {
  // IMMEDIATE takes SQLite's write lock at once: a second process waits (busy_timeout) instead of failing
  // at its first write with a lock it cannot upgrade.
  await sql.run(sql.dialect === 'sqlite' ? 'BEGIN IMMEDIATE' : 'BEGIN');
  try {
    const result = await fn();
    await sql.run('COMMIT');
    return result;
  } catch (err) {
    await sql.run('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** `BEGIN IMMEDIATE; …; COMMIT;` with every parameter as a literal, or undefined when one cannot be. */
function sqliteScript(statements: readonly SqlStatement[]): string | undefined {
  const parts = ['BEGIN IMMEDIATE;'];
  for (const [text, params] of statements) {
    let i = 0;
    let failed = false;
    const rendered = text.replace(/\?/g, () => {
      const literal = sqliteLiteral(params[i++]);
      if (literal === undefined) failed = true;
      return literal ?? '';
    });
    if (failed || i !== params.length) return undefined;
    parts.push(rendered, ';');
  }
  parts.push('COMMIT;');
  return parts.join('\n');
}

/**
 * A value as a SQLite literal: a string in single quotes with quotes doubled (SQLite's only escape; no
 * backslash escapes exist), an integer in decimal, NULL, 1/0 for booleans (as the driver binds them).
 */
export function sqliteLiteral(value: unknown): string | undefined {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'string') return value.includes('\0') ? undefined : `'${value.replaceAll("'", "''")}'`;
  if (typeof value === 'number') return Number.isSafeInteger(value) ? String(value) : undefined;
  if (typeof value === 'boolean') return value ? '1' : '0';
  return undefined;
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
  exec(sql: string, cb: (err: Error | null) => void): void;
}

/** Prepared statements kept per SQLite connection, and named statements per process on PostgreSQL. */
const MAX_STATEMENTS = 256;

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

  /**
   * The statement for `text`, prepared on first use; a statement that fails to prepare is not cached. The
   * cache is bounded (texts with IN lists vary in length): the least recently used statement is finalized,
   * which is safe because one holder of the connection runs one statement at a time.
   */
  private prepared(text: string): Promise<SqliteStatement> {
    const cached = this.statements.get(text);
    if (cached) {
      this.statements.delete(text); // re-insert: Map order is the LRU order
      this.statements.set(text, cached);
      return Promise.resolve(cached);
    }
    return new Promise((resolve, reject) => {
      const statement = this.connection.prepare(text, (err) => {
        if (err) return reject(err);
        this.statements.set(text, statement);
        if (this.statements.size > MAX_STATEMENTS) {
          const [oldest, evicted] = this.statements.entries().next().value as [string, SqliteStatement];
          this.statements.delete(oldest);
          evicted.finalize(() => undefined);
        }
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

/**
 * SQL text → [statement name, text with $n placeholders]; names are per process, prepared per connection.
 * Bounded like SQLite's cache: past MAX_STATEMENTS texts, new ones run unnamed (parsed each time), so
 * neither this map nor the server's per-connection statements grow without limit.
 */
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
    const entry = pgStatements.get(text);
    if (entry) return this.connection.query({ name: entry[0], text: entry[1], values: [...params] });
    let n = 0;
    const numbered = text.replace(/\?/g, () => `$${++n}`);
    if (pgStatements.size >= MAX_STATEMENTS)
      return this.connection.query({ text: numbered, values: [...params] });
    const name = `axon_${pgStatements.size}`;
    pgStatements.set(text, [name, numbered]);
    return this.connection.query({ name, text: numbered, values: [...params] });
  }
}

interface KnexClient {
  acquireConnection(): Promise<unknown>;
  releaseConnection(connection: unknown): Promise<void>;
}
