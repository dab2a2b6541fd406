/** Opens a migrated database with the media tables for store and service tests. */
import type { Knex } from 'knex';
import type { Test } from 'tap';
import type { DatabaseConfig } from '../../../../../core/config/schema.js';
import { createLogger } from '../../../../../core/logger.js';
import { openDatabase } from '../../../../../core/storage/database.js';
import { migrateToLatest } from '../../../../../core/storage/migrate.js';
import media from '../../../../../modules/media/index.js';

export async function mediaDatabase(t: Test, database: DatabaseConfig): Promise<Knex> {
  const db = await openDatabase(database, '/tmp');
  t.teardown(() => db.destroy());
  await migrateToLatest(db, [media], createLogger('silent'));
  return db;
}
