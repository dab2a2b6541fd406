/**
 * Test servers on SQLite start from a copy of a database that already holds every migration of their
 * modules, instead of running all migrations at each boot (~100 ms of CPU per server, and the suite
 * starts hundreds). The kernel still runs its migration step on the copy, which finds nothing to do, so
 * what a test sees is a database the kernel migrated.
 *
 * One template per set of modules, built on first use under node_modules/.cache/axon-test-db/ and named by
 * a hash of those modules' migration names and the text of every file in a migrations folder of modules/
 * (built-in migrations import nothing else of the project; startServer uses templates for built-in modules
 * only): a changed or new migration makes a new template. Built aside and renamed into place, so tap's parallel
 * test processes never copy half a file (two that build at once each rename a complete one).
 *
 * PostgreSQL keeps a fresh schema migrated at boot: a template database would cost a DROP DATABASE, which
 * forces a checkpoint on the server every test run shares.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants, copyFile, mkdir, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import type { AnyModuleDefinition } from '../../core/define-module.js';
import { orderModules } from '../../core/modules.js';
import { openDatabase } from '../../core/storage/database.js';
import { migrateToLatest } from '../../core/storage/migrate.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TEMPLATE_DIR = join(ROOT, 'node_modules', '.cache', 'axon-test-db');
/** Raise when the way templates are built changes, so that older ones are not reused. */
const TEMPLATE_FORMAT = 1;

/**
 * The modules a server with these `modules:` switches would migrate, in boot order, as the kernel picks
 * them; undefined when the switches are not plain booleans for known modules, or the choice cannot boot
 * (the kernel then reports it as it always does).
 */
export function modulesToMigrate(
  available: readonly AnyModuleDefinition[],
  switches: unknown,
): AnyModuleDefinition[] | undefined {
  const given = (switches ?? {}) as Record<string, unknown>;
  if (typeof given !== 'object' || Array.isArray(given)) return undefined;
  const known = new Set(available.map((m) => m.name));
  for (const [name, on] of Object.entries(given))
    if (!known.has(name) || typeof on !== 'boolean') return undefined;
  const enabled = available.filter((m) => (given[m.name] as boolean | undefined) ?? m.enabledByDefault);
  try {
    return orderModules(enabled, available);
  } catch {
    return undefined;
  }
}

let migrationSources: Promise<string> | undefined;

/**
 * The text of every file under a `migrations` folder of modules/ (migrations import nothing else of the
 * project), of the migration runner and database opener, and the versions of knex and sqlite3; read once
 * per process.
 */
function migrationSourceText(): Promise<string> {
  migrationSources ??= (async () => {
    const files = [
      join(ROOT, 'core', 'storage', 'migrate.ts'),
      join(ROOT, 'core', 'storage', 'database.ts'),
      join(ROOT, 'node_modules', 'knex', 'package.json'),
      join(ROOT, 'node_modules', 'sqlite3', 'package.json'),
    ];
    const walk = async (dir: string, inMigrations: boolean): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path, inMigrations || entry.name === 'migrations');
        else if (inMigrations) files.push(path);
      }
    };
    await walk(join(ROOT, 'modules'), false);
    files.sort();
    const texts = await Promise.all(files.map(async (f) => `${f}\n${await readFile(f, 'utf8')}`));
    return texts.join('\0');
  })();
  return migrationSources;
}

async function templateKey(modules: readonly AnyModuleDefinition[]): Promise<string> {
  const hash = createHash('sha256').update(`format ${TEMPLATE_FORMAT}\0`);
  for (const module of modules) {
    hash.update(`module ${module.name}\0`);
    for (const m of module.migrations ?? []) {
      hash.update(`${m.name}\0${(m.formerNames ?? []).join(',')}\0`);
    }
  }
  hash.update(await migrationSourceText());
  return hash.digest('hex').slice(0, 32);
}

const building = new Map<string, Promise<string>>();

/** The path of the SQLite template for `modules` (in boot order), built if it does not exist yet. */
export async function sqliteTemplate(modules: readonly AnyModuleDefinition[]): Promise<string> {
  const key = await templateKey(modules);
  let template = building.get(key);
  if (!template) {
    template = buildSqliteTemplate(join(TEMPLATE_DIR, `sqlite-${key}.db`), modules);
    building.set(key, template);
    template.catch(() => building.delete(key));
  }
  return template;
}

async function buildSqliteTemplate(path: string, modules: readonly AnyModuleDefinition[]): Promise<string> {
  if (await exists(path)) return path;
  await mkdir(TEMPLATE_DIR, { recursive: true });
  const partial = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.partial`;
  try {
    const db = await openDatabase(
      { name: 'sqlite3', args: { database: partial, synchronous: 'normal' } },
      ROOT,
    );
    try {
      await migrateToLatest(db, modules, pino({ level: 'silent' }));
    } finally {
      // Closing the last connection checkpoints the WAL into the file and removes it: one file to copy.
      await db.destroy();
    }
    await rename(partial, path);
  } finally {
    await rm(partial, { force: true });
    await rm(`${partial}-wal`, { force: true });
    await rm(`${partial}-shm`, { force: true });
  }
  return path;
}

/**
 * Creates `file` as a copy of the template for `modules`; leaves an existing file alone (something opened
 * that database already, e.g. a server the test started before: the kernel migrates it as usual).
 */
export async function copySqliteTemplate(
  modules: readonly AnyModuleDefinition[],
  file: string,
): Promise<void> {
  const template = await sqliteTemplate(modules);
  try {
    await copyFile(template, file, constants.COPYFILE_EXCL);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
