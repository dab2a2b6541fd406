/**
 * Runs each enabled module's migrations, in boot order, each module with its own bookkeeping table
 * (`knex_migrations_<module>`), as Backstage keeps one per package.
 */
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { AnyModuleDefinition, Migration } from '../define-module.js';
import { BootError } from '../errors.js';

class ListMigrationSource implements Knex.MigrationSource<Migration> {
  constructor(private readonly migrations: readonly Migration[]) {}
  getMigrations(): Promise<Migration[]> {
    return Promise.resolve([...this.migrations]);
  }
  getMigrationName(m: Migration): string {
    return m.name;
  }
  getMigration(m: Migration): Promise<Knex.Migration> {
    return Promise.resolve({ up: (k: Knex) => m.up(k), down: (k: Knex) => m.down(k) });
  }
}

export function migrationTableName(moduleName: string): string {
  return `knex_migrations_${moduleName.replace(/-/g, '_')}`;
}

export function migrationConfig(module: AnyModuleDefinition): Knex.MigratorConfig {
  return {
    migrationSource: new ListMigrationSource(module.migrations ?? []),
    tableName: migrationTableName(module.name),
  };
}

export async function migrateToLatest(
  db: Knex,
  modules: readonly AnyModuleDefinition[],
  logger: Logger,
): Promise<void> {
  for (const module of modules) {
    if (!module.migrations?.length) continue;
    await recordRenames(db, module, logger);
    await refuseUnknownMigrations(db, module);
    const [, applied] = (await db.migrate.latest(migrationConfig(module))) as [number, string[]];
    if (applied.length > 0) logger.info({ module: module.name, applied }, 'applied migrations');
  }
}

/**
 * A database migrated before a migration was renamed records its former name, and knex refuses to run when a
 * recorded migration is missing from the list. The bookkeeping rows of renamed migrations take their current
 * names, in one transaction, before knex looks (a no-op once done, and on a fresh database).
 */
async function recordRenames(db: Knex, module: AnyModuleDefinition, logger: Logger): Promise<void> {
  const renames = (module.migrations ?? []).flatMap((m) =>
    (m.formerNames ?? []).map((former) => ({ former, name: m.name })),
  );
  if (renames.length === 0) return;
  const table = migrationTableName(module.name);
  if (!(await db.schema.hasTable(table))) return;
  const renamed = await db.transaction(async (trx) => {
    const done: string[] = [];
    for (const { former, name } of renames) {
      if ((await trx(table).where({ name: former }).update({ name })) > 0) done.push(`${former} -> ${name}`);
    }
    return done;
  });
  if (renamed.length > 0) logger.info({ module: module.name, renamed }, 'renamed recorded migrations');
}

/**
 * A database that a newer Axon migrated records migrations this version lacks (a downgrade): knex would
 * stop with "the migration directory is corrupt". Say what happened and what to do instead; nothing is
 * changed, so running the newer version again works.
 */
async function refuseUnknownMigrations(db: Knex, module: AnyModuleDefinition): Promise<void> {
  const table = migrationTableName(module.name);
  if (!(await db.schema.hasTable(table))) return;
  const known = new Set((module.migrations ?? []).map((m) => m.name));
  const rows = await db<{ name: string }>(table).select('name');
  const unknown = rows.map((r) => r.name).filter((name) => !known.has(name));
  if (unknown.length === 0) return;
  throw new BootError(
    'AXON_ERR_DATABASE_NEWER',
    `the database was migrated by a newer Axon: module ${module.name} has migrations this version does not ` +
      `know (${unknown.join(', ')}). Run the newer version again, or restore the backup taken before the upgrade`,
  );
}

/** Rolls back every migration of the given modules, last module first (used by tests of `down`). */
export async function rollbackAll(db: Knex, modules: readonly AnyModuleDefinition[]): Promise<void> {
  for (const module of [...modules].reverse()) {
    if (!module.migrations?.length) continue;
    await db.migrate.rollback(migrationConfig(module), true);
  }
}
