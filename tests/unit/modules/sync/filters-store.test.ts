import t from 'tap';
import { openDatabase } from '../../../../core/storage/database.js';
import { FiltersStore } from '../../../../modules/sync/store/filters-store.js';
import { syncFiltersMigration } from '../../../../modules/sync/store/migrations/20261123000000_sync_filters.js';
import { withAllDatabases } from '../../../helpers/with-all-databases.js';

void withAllDatabases(t, async (t, database) => {
  const db = await openDatabase(database, '/tmp');
  t.teardown(() => db.destroy());
  await syncFiltersMigration.up(db);
  const store = new FiltersStore({ db });

  await t.test('stores a filter and hands back a string id', async (t) => {
    const id = await store.insert('@a:x', { room: { timeline: { limit: 5 } } });
    t.match(id, /^\d+$/);
    t.same(await store.get('@a:x', id), { room: { timeline: { limit: 5 } } });
  });

  await t.test('a filter is invisible to other users; bad ids are unknown', async (t) => {
    const id = await store.insert('@a:x', {});
    t.equal(await store.get('@b:x', id), undefined);
    t.equal(await store.get('@a:x', 'abc'), undefined);
    t.equal(await store.get('@a:x', '99999'), undefined);
  });

  await t.test('down drops the table', async (t) => {
    await syncFiltersMigration.down(db);
    t.notOk(await db.schema.hasTable('sync_filters'));
  });
});
