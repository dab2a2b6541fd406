/** The e2ee migration goes up and down cleanly on both engines, and up again after a rollback. */
import t from 'tap';
import { createLogger } from '../../../../core/logger.js';
import { openDatabase } from '../../../../core/storage/database.js';
import { migrateToLatest, rollbackAll } from '../../../../core/storage/migrate.js';
import e2ee from '../../../../modules/e2ee/index.js';
import { withAllDatabases } from '../../../helpers/with-all-databases.js';

const TABLES = [
  'e2ee_device_keys',
  'e2ee_one_time_keys',
  'e2ee_fallback_keys',
  'e2ee_cross_signing_keys',
  'e2ee_signatures',
  'e2ee_device_list_changes',
  'e2ee_device_list_stream',
  'e2ee_backup_versions',
  'e2ee_backup_keys',
];

void withAllDatabases(t, async (t, database) => {
  const db = await openDatabase(database, '/tmp');
  t.teardown(() => db.destroy());
  const logger = createLogger('silent');

  await migrateToLatest(db, [e2ee], logger);
  for (const table of TABLES) t.ok(await db.schema.hasTable(table), `${table} exists`);
  const counter = (await db('e2ee_device_list_stream').first()) as { position: string | number } | undefined;
  t.equal(Number(counter?.position), 0, 'the device_lists stream starts at 0');

  await rollbackAll(db, [e2ee]);
  for (const table of TABLES) t.notOk(await db.schema.hasTable(table), `${table} dropped`);

  await migrateToLatest(db, [e2ee], logger);
  t.ok(await db.schema.hasTable('e2ee_device_keys'), 'up again after down');
});
