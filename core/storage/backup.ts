/**
 * Online backups (`axon backup`). SQLite: `VACUUM INTO` from a connection of its own copies one consistent
 * snapshot (a read transaction; in WAL mode the running server keeps writing meanwhile) into a compact new
 * file, written beside the target and renamed once complete, so a half-written backup never carries the
 * target's name. PostgreSQL: pg_dump does this better than Axon could, so Axon prints the command to run.
 */
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { DatabaseConfig } from '../config/schema.js';
import { engineOf, openDatabase } from './database.js';

export type BackupResult =
  | { readonly engine: 'sqlite3'; readonly source: string; readonly file: string; readonly bytes: number }
  | { readonly engine: 'pg'; readonly command: string; readonly restore: string };

/** A backup that cannot be made, with what to do about it. */
export class BackupError extends Error {}

export async function backupDatabase(
  database: DatabaseConfig,
  configDir: string,
  to: string,
): Promise<BackupResult> {
  const target = resolve(to);
  if (engineOf(database) === 'pg') return { engine: 'pg', ...pgDumpCommands(database, target) };

  const file = database.args.database ?? 'homeserver.db';
  if (file === ':memory:')
    throw new BackupError('database.args.database is :memory:; there is nothing on disk to back up');
  const source = isAbsolute(file) ? file : resolve(configDir, file);
  if (!existsSync(source))
    throw new BackupError(`the SQLite database ${source} does not exist (database.args.database)`);
  if (existsSync(target)) throw new BackupError(`${target} exists already; not overwriting it`);
  if (target === source) throw new BackupError('--to names the database itself');
  await mkdir(dirname(target), { recursive: true });
  const partial = `${target}.partial`;
  await rm(partial, { force: true }); // what an interrupted earlier run left
  const db = await openDatabase(database, configDir);
  try {
    await db.raw('VACUUM INTO ?', [partial]);
  } catch (err) {
    await rm(partial, { force: true });
    throw new BackupError(`VACUUM INTO failed: ${(err as Error).message}`);
  } finally {
    await db.destroy();
  }
  await rename(partial, target);
  return { engine: 'sqlite3', source, file: target, bytes: (await stat(target)).size };
}

/** pg_dump's custom format (compressed, restorable table by table with pg_restore), for these args. */
function pgDumpCommands(database: DatabaseConfig, target: string): { command: string; restore: string } {
  const args = database.args;
  const connection = [
    `--host=${quote(args.host ?? '127.0.0.1')}`,
    `--port=${args.port ?? 5432}`,
    ...(args.user ? [`--username=${quote(args.user)}`] : []),
  ];
  const name = quote(args.database ?? args.dbname ?? 'synapse');
  const schema = args.schema ? [`--schema=${quote(args.schema)}`] : [];
  return {
    command: ['pg_dump', '--format=custom', ...connection, ...schema, `--file=${quote(target)}`, name].join(
      ' ',
    ),
    restore: ['pg_restore', '--exit-on-error', ...connection, `--dbname=${name}`, quote(target)].join(' '),
  };
}

function quote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
