/**
 * The SQLite template test servers start from (tests/helpers/template-database.ts) must be what the kernel
 * would have built: the same schema and migration bookkeeping as migrating an empty database, only for the
 * databases and modules it is meant for.
 */
import t, { type Test } from 'tap';
import type { Knex } from 'knex';
import type { DatabaseConfig } from '../../../core/config/schema.js';
import { defineModule, type AnyModuleDefinition } from '../../../core/define-module.js';
import { createLogger } from '../../../core/logger.js';
import { openDatabase } from '../../../core/storage/database.js';
import { migrateToLatest } from '../../../core/storage/migrate.js';
import { builtinModules } from '../../../modules/index.js';
import { makeUser, openRegistrationConfig } from '../../helpers/fixtures.js';
import { startServer } from '../../helpers/start-server.js';
import { copySqliteTemplate, modulesToMigrate } from '../../helpers/template-database.js';
import { freshDatabase } from '../../helpers/with-all-databases.js';

async function open(t: Test, database: DatabaseConfig): Promise<Knex> {
  const db = await openDatabase(database, '/tmp');
  t.teardown(() => db.destroy());
  return db;
}

/** Every table, index and trigger with its SQL, and the rows of every migration bookkeeping table. */
async function describeSchema(db: Knex): Promise<Record<string, unknown>> {
  const objects = await db('sqlite_master')
    .select('type', 'name', 'tbl_name', 'sql')
    .orderBy(['type', 'name']);
  const bookkeeping: Record<string, unknown> = {};
  for (const { name } of objects.filter((o: { name: string }) => /^knex_migrations_/.test(o.name))) {
    bookkeeping[name] = await db(name)
      .select(...(name.endsWith('_lock') ? ['is_locked'] : ['name', 'batch']))
      .orderBy(name.endsWith('_lock') ? 'is_locked' : 'name');
  }
  return { objects, bookkeeping };
}

for (const [label, switches] of [
  ['default modules', {}],
  ['presence switched on', { presence: true }],
] as const) {
  void t.test(`${label}: a copy of the template is the database migrating an empty one gives`, async (t) => {
    const modules = modulesToMigrate(builtinModules, switches);
    if (!modules) throw new Error('the built-in modules must boot with these switches');
    t.equal(
      modules.some((m) => m.name === 'presence'),
      label === 'presence switched on',
    );

    const migrated = await freshDatabase(t, 'sqlite');
    const migratedDb = await open(t, migrated);
    await migrateToLatest(migratedDb, modules, createLogger('silent'));

    const copied = await freshDatabase(t, 'sqlite');
    await copySqliteTemplate(modules, copied.args.database!);
    const copiedDb = await open(t, copied);

    t.same(await describeSchema(copiedDb), await describeSchema(migratedDb));
  });
}

void t.test('modulesToMigrate leaves choices the kernel would refuse to the kernel', async (t) => {
  t.equal(modulesToMigrate(builtinModules, { 'no-such-module': true }), undefined, 'unknown module');
  t.equal(modulesToMigrate(builtinModules, { presence: 'yes' }), undefined, 'not a boolean');
  t.equal(modulesToMigrate(builtinModules, { auth: false }), undefined, 'a requirement switched off');
  t.equal(modulesToMigrate(builtinModules, ['presence']), undefined, "Synapse's list form");
});

void t.test('a second server on the same database keeps what the first wrote', async (t) => {
  const database = await freshDatabase(t, 'sqlite');
  const first = await startServer(t, { database, config: { ...openRegistrationConfig } });
  const alice = await makeUser(first, { localpart: 'alice' });
  await first.stop();
  const second = await startServer(t, { database, config: { ...openRegistrationConfig } });
  const whoami = await second.request('GET', '/_matrix/client/v3/account/whoami', {
    token: alice.accessToken,
  });
  t.equal(whoami.status, 200, whoami.text);
  t.equal(whoami.body.user_id, alice.userId);
});

void t.test(
  "a test's own module with migrations is migrated by the kernel, not from a template",
  async (t) => {
    let migrated = 0;
    const recorder: AnyModuleDefinition = defineModule({
      name: 'migration-recorder',
      description: 'counts its migration runs',
      enabledByDefault: true,
      migrations: [
        {
          name: '20260101000000_record',
          async up() {
            migrated++;
          },
          async down() {},
        },
      ],
      register() {},
    });
    await startServer(t, { modules: [...builtinModules, recorder] });
    t.equal(migrated, 1, 'its migration ran at boot');
  },
);
