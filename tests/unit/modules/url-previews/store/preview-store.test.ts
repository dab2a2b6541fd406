import t from 'tap';
import { createLogger } from '../../../../../core/logger.js';
import { openDatabase } from '../../../../../core/storage/database.js';
import { migrateToLatest } from '../../../../../core/storage/migrate.js';
import urlPreviews from '../../../../../modules/url-previews/index.js';
import { PreviewStore } from '../../../../../modules/url-previews/store/preview-store.js';
import { withAllDatabases } from '../../../../helpers/with-all-databases.js';

void t.test('preview cache', async (t) => {
  await withAllDatabases(t, async (t, database) => {
    const db = await openDatabase(database, '/tmp');
    t.teardown(() => db.destroy());
    await migrateToLatest(db, [urlPreviews], createLogger('silent'));
    const store = new PreviewStore({ db });
    const url = 'https://example.com/page';
    await store.put(url, { 'og:title': 'v1' }, 1000, 5000);
    await store.put(url, { 'og:title': 'v2', 'og:image:width': 48 }, 2000, 6000);

    await t.test('the newest version at or before ts', async (t) => {
      t.same(await store.get(url, 1500, 1600), { 'og:title': 'v1' });
      t.same(await store.get(url, 9999, 1600), { 'og:title': 'v2', 'og:image:width': 48 });
    });
    await t.test('a ts before every version gets the oldest', async (t) => {
      t.same(await store.get(url, 10, 1600), { 'og:title': 'v1' });
    });
    await t.test('expired versions are not answered, then deleted', async (t) => {
      t.same(await store.get(url, 1500, 5500), { 'og:title': 'v2', 'og:image:width': 48 });
      t.equal(await store.get(url, 1500, 7000), undefined);
      t.equal(await store.deleteExpired(7000), 2);
    });
    await t.test('other URLs are separate', async (t) => {
      t.equal(await store.get('https://example.com/other', 1500, 0), undefined);
    });
  });
});
