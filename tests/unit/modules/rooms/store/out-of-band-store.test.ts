/** `rooms_out_of_band_memberships` and its migration, on both engines. */
import t from 'tap';
import { createLogger } from '../../../../../core/logger.js';
import { openDatabase } from '../../../../../core/storage/database.js';
import { migrateToLatest, rollbackAll } from '../../../../../core/storage/migrate.js';
import { sqlTransaction } from '../../../../../core/storage/sql.js';
import rooms from '../../../../../modules/rooms/index.js';
import { OutOfBandStore } from '../../../../../modules/rooms/store/out-of-band-store.js';
import { withAllDatabases } from '../../../../helpers/with-all-databases.js';

void t.test(
  'out-of-band memberships: upsert, read, replace, delete; the migration goes down and up',
  async (t) => {
    await withAllDatabases(t, async (t, database) => {
      const db = await openDatabase(database, process.cwd());
      t.teardown(() => db.destroy());
      await migrateToLatest(db, [rooms], createLogger('silent'));
      const store = new OutOfBandStore({ db });
      const invite = {
        roomId: '!r:remote',
        userId: '@u:here',
        membership: 'invite',
        eventId: '$invite',
        roomVersion: '10',
        servers: ['remote'],
      };
      await sqlTransaction(db, (sql) => store.upsert(invite, sql));
      t.same(await store.get('!r:remote', '@u:here'), invite);
      const knock = { ...invite, membership: 'knock', eventId: '$knock', servers: ['a', 'b'] };
      await sqlTransaction(db, (sql) => store.upsert(knock, sql));
      t.same(await sqlTransaction(db, (sql) => store.getIn(sql, '!r:remote', '@u:here')), knock, 'replaced');
      t.same(
        (await sqlTransaction(db, (sql) => store.ofRoomIn(sql, '!r:remote'))).map((m) => m.eventId),
        ['$knock'],
      );
      await sqlTransaction(db, (sql) => store.delete('!r:remote', '@u:here', sql));
      t.equal(await store.get('!r:remote', '@u:here'), undefined);

      await rollbackAll(db, [rooms]);
      t.notOk(await db.schema.hasTable('rooms_out_of_band_memberships'));
      await migrateToLatest(db, [rooms], createLogger('silent'));
      t.ok(await db.schema.hasTable('rooms_out_of_band_memberships'), 'up again after down');
    });
  },
);
