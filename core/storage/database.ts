/**
 * Builds knex for the configured engine. SQLite is the embedded default: WAL, foreign keys, a busy timeout
 * and a single connection, so there is exactly one writer (Dendrite's ExclusiveWriter idea, here by pool
 * size). PostgreSQL is for production and for several Axon processes sharing one database.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import knexFactory, { type Knex } from 'knex';
import type { DatabaseConfig } from '../config/schema.js';
import { finalizeStatements } from './sql.js';

export type Engine = 'sqlite3' | 'pg';

export function engineOf(config: DatabaseConfig): Engine {
  return config.name === 'sqlite3' ? 'sqlite3' : 'pg'; // psycopg2 is Synapse's name for PostgreSQL
}

export async function openDatabase(config: DatabaseConfig, baseDir: string): Promise<Knex> {
  const args = config.args;
  if (engineOf(config) === 'sqlite3') {
    const file = args.database ?? 'homeserver.db';
    const filename = file === ':memory:' ? file : isAbsolute(file) ? file : resolve(baseDir, file);
    if (filename !== ':memory:') await mkdir(dirname(filename), { recursive: true });
    const busyTimeout = args.busy_timeout ?? 10_000;
    const synchronous = args.synchronous === 'normal' ? 'NORMAL' : 'FULL';
    const db = knexFactory({
      client: 'sqlite3',
      connection: { filename },
      useNullAsDefault: true,
      pool: {
        min: 1,
        max: 1,
        afterCreate(conn: SqliteConnection, done: (err: Error | null, conn: SqliteConnection) => void) {
          // synchronous=FULL (the default): a commit is on disk before we answer, the durability Synapse gives.
          conn.exec(
            `PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=${busyTimeout}; PRAGMA synchronous=${synchronous};`,
            (err) => done(err, conn),
          );
        },
      },
    });
    // Statements prepared by the send path's fast transactions (sql.ts) must be finalized before the
    // connection can close.
    const client = db.client as { destroyRawConnection(conn: unknown): Promise<void> };
    const destroyRawConnection = client.destroyRawConnection.bind(client);
    client.destroyRawConnection = async (conn) => {
      await finalizeStatements(conn);
      await destroyRawConnection(conn);
    };
    return db;
  }
  const db = knexFactory({
    client: 'pg',
    connection: {
      host: args.host ?? '127.0.0.1',
      port: args.port ?? 5432,
      user: args.user,
      password: args.password,
      database: args.database ?? args.dbname ?? 'synapse',
      options: args.options,
    },
    searchPath: args.schema ? [args.schema] : undefined,
    pool: { min: args.cp_min ?? 0, max: args.cp_max ?? 10 },
  });
  if (args.schema) await db.raw('CREATE SCHEMA IF NOT EXISTS ??', [args.schema]);
  return db;
}

interface SqliteConnection {
  exec(sql: string, cb: (err: Error | null) => void): void;
}
