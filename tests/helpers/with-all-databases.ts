/**
 * Runs a store or migration test on every engine: SQLite on a temporary file, and PostgreSQL in a fresh
 * schema on 127.0.0.1:5432 (database `test`, trust auth; override with AXON_TEST_PG_URL) — skipped with a
 * clear message where no server is reachable.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import knexFactory from 'knex';
import type { Test } from 'tap';
import type { DatabaseConfig } from '../../core/config/schema.js';
import { databaseFromUrl } from '../../core/config/generate.js';

export type EngineName = 'sqlite' | 'pg';

export const PG_URL = process.env['AXON_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

let pgReachable: Promise<string | undefined> | undefined;

/** undefined when PostgreSQL answers, else the reason it does not. */
export function pgUnavailableReason(): Promise<string | undefined> {
  pgReachable ??= (async () => {
    const { args } = databaseFromUrl(PG_URL) as { args: Record<string, string | number> };
    const db = knexFactory({
      client: 'pg',
      connection: { ...args, connectionTimeoutMillis: 2000 },
      pool: { min: 0, max: 1 },
    });
    try {
      await db.raw('select 1');
      return undefined;
    } catch (err) {
      return `PostgreSQL not reachable at ${PG_URL} (${(err as Error).message}); skipping the pg half`;
    } finally {
      await db.destroy();
    }
  })();
  return pgReachable;
}

/**
 * A test database does not need to survive a power cut: commits skip the fsync (SQLite's synchronous=NORMAL,
 * PostgreSQL's synchronous_commit=off), which was a large share of the suite's time on a busy disk. What is
 * visible to the server and its queries is the same.
 */
export const TEST_SQLITE_SYNCHRONOUS = 'normal';
export const TEST_PG_OPTIONS = '-c synchronous_commit=off';

/** The SQLite configs freshDatabase made: startServer may create their file from a migrated template. */
const freshSqliteDatabases = new WeakSet<DatabaseConfig>();

export function isFreshSqliteDatabase(database: DatabaseConfig): boolean {
  return freshSqliteDatabases.has(database);
}

/** A database config for a fresh, empty database on `engine`, removed when `t` ends. */
export async function freshDatabase(t: Test, engine: EngineName): Promise<DatabaseConfig> {
  if (engine === 'sqlite') {
    const dir = await mkdtemp(join(tmpdir(), 'axon-db-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const database: DatabaseConfig = {
      name: 'sqlite3',
      args: { database: join(dir, 'homeserver.db'), synchronous: TEST_SQLITE_SYNCHRONOUS },
    };
    freshSqliteDatabases.add(database);
    return database;
  }
  const schema = `axon_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const base = databaseFromUrl(PG_URL) as DatabaseConfig;
  t.teardown(async () => {
    const db = knexFactory({ client: 'pg', connection: { ...base.args }, pool: { min: 0, max: 1 } });
    try {
      await db.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]);
    } finally {
      await db.destroy();
    }
  });
  return { name: 'pg', args: { ...base.args, schema, options: TEST_PG_OPTIONS } };
}

type EngineRun = (t: Test, database: DatabaseConfig, engine: EngineName) => Promise<void>;

/** Runs `fn` once per engine as subtests `sqlite` and `pg`, one after the other. */
export async function withAllDatabases(t: Test, fn: EngineRun): Promise<void> {
  await t.test('sqlite', async (t) => fn(t, await freshDatabase(t, 'sqlite'), 'sqlite'));
  const reason = await pgUnavailableReason();
  if (reason) t.comment(reason);
  await t.test('pg', { skip: reason ?? false }, async (t) => fn(t, await freshDatabase(t, 'pg'), 'pg'));
}

/**
 * As withAllDatabases, but both engines at once: for a file whose time goes mostly into waiting (on
 * PostgreSQL, on timers, on other processes), where it about halves the file's wall time. Only for an `fn`
 * that shares no state between its two runs but what it creates itself (each run has its own database and
 * its own servers either way).
 */
export async function withAllDatabasesConcurrently(t: Test, fn: EngineRun): Promise<void> {
  const reason = await pgUnavailableReason();
  if (reason) t.comment(reason);
  const jobs = t.jobs;
  t.jobs = Math.max(jobs, 2);
  try {
    await Promise.all([
      t.test('sqlite', async (t) => fn(t, await freshDatabase(t, 'sqlite'), 'sqlite')),
      t.test('pg', { skip: reason ?? false }, async (t) => fn(t, await freshDatabase(t, 'pg'), 'pg')),
    ]);
  } finally {
    t.jobs = jobs;
  }
}
