import t from 'tap';
import { createLogger } from '../../../core/logger.js';
import { openDatabase } from '../../../core/storage/database.js';
import {
  migrateToLatest,
  migrationConfig,
  migrationTableName,
  rollbackAll,
} from '../../../core/storage/migrate.js';
import { withTransaction } from '../../../core/storage/transaction.js';
import { isUniqueViolation } from '../../../core/storage/errors.js';
import { isSqlite } from '../../../core/storage/dialect.js';
import { startServer } from '../../helpers/start-server.js';
import { withAllDatabases } from '../../helpers/with-all-databases.js';
import { echoModule } from '../../helpers/test-modules.js';
import { builtinModules } from '../../../modules/index.js';

const logger = createLogger('silent');

void withAllDatabases(t, async (t, database, engine) => {
  const db = await openDatabase(database, '/tmp');
  t.teardown(() => db.destroy());

  await t.test('migrations apply, are recorded per module, and roll back', async (t) => {
    await migrateToLatest(db, [echoModule], logger);
    t.ok(await db.schema.hasTable('echo_notes'));
    const applied = await db(migrationTableName('echo')).select('name');
    t.same(
      applied.map((r: { name: string }) => r.name),
      ['20260101000000_create_notes'],
    );
    await migrateToLatest(db, [echoModule], logger);
    t.equal((await db(migrationTableName('echo')).count({ n: '*' }))[0]?.['n'] + '', '1', 'idempotent');
    await rollbackAll(db, [echoModule]);
    t.notOk(await db.schema.hasTable('echo_notes'), 'down migration removes the table');
    await migrateToLatest(db, [echoModule], logger);
  });

  await t.test('a unique violation is recognised on this engine', async (t) => {
    await db('echo_notes').insert({ text: 'once' });
    const err = await db('echo_notes')
      .insert({ text: 'once' })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    t.ok(isUniqueViolation(err), `${engine}: ${String(err)}`);
  });

  await t.test('a failed transaction leaves nothing behind', async (t) => {
    await t.rejects(
      withTransaction(db, async (trx) => {
        await trx('echo_notes').insert({ text: 'first' });
        await trx('echo_notes').insert({ text: 'once' }); // collides: the whole transaction rolls back
      }),
    );
    t.equal((await db('echo_notes').where({ text: 'first' })).length, 0);
  });

  await t.test('sqlite pragmas: WAL and foreign keys', { skip: engine !== 'sqlite' }, async (t) => {
    t.ok(isSqlite(db));
    const [mode] = await db.raw<{ journal_mode: string }[]>('PRAGMA journal_mode');
    t.equal(mode?.journal_mode, 'wal');
    const [fk] = await db.raw<{ foreign_keys: number }[]>('PRAGMA foreign_keys');
    t.equal(fk?.foreign_keys, 1);
    const [sync] = await db.raw<{ synchronous: number }[]>('PRAGMA synchronous');
    t.equal(sync?.synchronous, 1, 'args.synchronous: normal (the tests ask for it; FULL, 2, by default)');
    const full = await openDatabase({ name: 'sqlite3', args: { database: ':memory:' } }, '/tmp');
    t.teardown(() => full.destroy());
    const [fullSync] = await full.raw<{ synchronous: number }[]>('PRAGMA synchronous');
    t.equal(fullSync?.synchronous, 2, 'FULL unless the config says otherwise');
  });

  await t.test('pg: args.options reach the server', { skip: engine !== 'pg' }, async (t) => {
    const rows = await db.raw<{ rows: { synchronous_commit: string }[] }>('SHOW synchronous_commit');
    t.equal(rows.rows[0]?.synchronous_commit, 'off', 'the tests turn it off through args.options');
  });

  await t.test('a module writes through the real server on this engine', async (t) => {
    const server = await startServer(t, { modules: [...builtinModules, echoModule], database });
    const first = await server.request('POST', '/_matrix/client/v3/echo/notes', { body: { text: 'hello' } });
    const second = await server.request('POST', '/_matrix/client/v3/echo/notes', { body: { text: 'world' } });
    t.equal(first.status, 200);
    t.ok(second.body.id > first.body.id, 'positions come from the database');
  });

  await t.test('a database migrated under the former migration names migrates on', async (t) => {
    await migrateToLatest(db, builtinModules, logger);
    const renamed = builtinModules.flatMap((module) =>
      (module.migrations ?? []).flatMap((m) =>
        (m.formerNames ?? []).map((former) => ({ module, name: m.name, former })),
      ),
    );
    t.ok(renamed.length >= 5, 'the built-in migrations once named NNN-what are renamed');
    // Bookkeeping as a database migrated before the renames holds it.
    for (const { module, name, former } of renamed) {
      await db(migrationTableName(module.name)).where({ name }).update({ name: former });
    }
    await t.rejects(
      db.migrate.latest(migrationConfig(renamed[0]!.module)),
      /missing/,
      'knex alone refuses the missing names',
    );
    await migrateToLatest(db, builtinModules, logger);
    for (const module of builtinModules.filter((m) => m.migrations?.length)) {
      const recorded = await db(migrationTableName(module.name)).orderBy('id').pluck('name');
      t.same(
        recorded,
        (module.migrations ?? []).map((m) => m.name),
        `${module.name}: current names, applied once`,
      );
    }
    await migrateToLatest(db, builtinModules, logger);
    t.pass('a second run is a no-op');
  });
});
