import t from 'tap';
import { openDatabase } from '../../../../core/storage/database.js';
import { AccountDataStore, GLOBAL } from '../../../../modules/account-data/store/account-data-store.js';
import { accountDataMigration } from '../../../../modules/account-data/store/migrations/20261123000000_account_data.js';
import { withAllDatabases } from '../../../helpers/with-all-databases.js';

void withAllDatabases(t, async (t, database) => {
  const db = await openDatabase(database, '/tmp');
  t.teardown(() => db.destroy());
  await accountDataMigration.up(db);
  const store = new AccountDataStore({ db });

  await t.test('positions increase by one per write and come from the database', async (t) => {
    t.equal(await store.currentPosition(), 0);
    const p1 = await store.put('@a:x', GLOBAL, 't1', { n: 1 });
    const p2 = await store.put('@a:x', '!r:x', 't1', { n: 2 });
    t.same([p1, p2], [1, 2]);
    t.equal(await store.currentPosition(), 2);
  });

  await t.test('an overwrite moves the entry to the new position', async (t) => {
    const p = await store.put('@a:x', GLOBAL, 't1', { n: 3 });
    t.same(await store.get('@a:x', GLOBAL, 't1'), { n: 3 });
    const changed = await store.changedBetween('@a:x', p - 1, p);
    t.same(
      changed.map((r) => [r.roomId, r.type, r.content]),
      [['', 't1', { n: 3 }]],
    );
  });

  await t.test('changedBetween reads one user in a window', async (t) => {
    await store.put('@b:x', GLOBAL, 'other', {});
    const all = await store.changedBetween('@a:x', 0, await store.currentPosition());
    t.same(all.map((r) => r.type).sort(), ['t1', 't1']);
    t.same(await store.changedBetween('@a:x', 0, 0), []);
  });

  await t.test('forRooms returns every entry of the given rooms', async (t) => {
    const rows = await store.forRooms('@a:x', ['!r:x'], await store.currentPosition());
    t.same(
      rows.map((r) => r.content),
      [{ n: 2 }],
    );
    t.same(await store.forRooms('@a:x', [], 100), []);
  });

  await t.test('down drops the tables', async (t) => {
    await accountDataMigration.down(db);
    t.notOk(await db.schema.hasTable('account_data_entries'));
  });
});
