import t from 'tap';
import { openDatabase } from '../../../../core/storage/database.js';
import { receiptsMigration } from '../../../../modules/receipts/store/migrations/20261123100000_receipts.js';
import { ReceiptsStore, UNTHREADED } from '../../../../modules/receipts/store/receipts-store.js';
import { withAllDatabases } from '../../../helpers/with-all-databases.js';

const base = {
  roomId: '!r:test',
  receiptType: 'm.read',
  userId: '@alice:test',
  threadId: UNTHREADED,
  ts: 1000,
};

void t.test('receipts store', async (t) => {
  await withAllDatabases(t, async (t, database) => {
    const db = await openDatabase(database, '.');
    t.teardown(() => db.destroy());
    await receiptsMigration.up(db);
    const store = new ReceiptsStore({ db });

    await t.test('a receipt takes the next stream position', async (t) => {
      t.equal(await store.currentPosition(), 0);
      t.equal(await store.advance({ ...base, eventId: '$a', eventStreamOrdering: 5 }), 1);
      t.equal(await store.currentPosition(), 1);
      t.match(await store.get('!r:test', 'm.read', '@alice:test', UNTHREADED), {
        eventId: '$a',
        position: 1,
      });
    });

    await t.test('a receipt never moves backwards', async (t) => {
      t.equal(await store.advance({ ...base, eventId: '$old', eventStreamOrdering: 3 }), undefined);
      t.equal(await store.advance({ ...base, eventId: '$a', eventStreamOrdering: 5 }), undefined);
      t.equal((await store.get('!r:test', 'm.read', '@alice:test', UNTHREADED))?.eventId, '$a');
      t.equal(await store.currentPosition(), 1, 'no position was spent');
    });

    await t.test('threads and types are kept apart', async (t) => {
      t.equal(await store.advance({ ...base, threadId: 'main', eventId: '$m', eventStreamOrdering: 2 }), 2);
      t.equal(
        await store.advance({
          ...base,
          receiptType: 'm.read.private',
          eventId: '$p',
          eventStreamOrdering: 9,
        }),
        3,
      );
      t.equal((await store.forUser('!r:test', '@alice:test')).length, 3);
    });

    await t.test('changedIn reads the window for the given rooms only', async (t) => {
      await store.advance({ ...base, roomId: '!other:test', eventId: '$o', eventStreamOrdering: 1 });
      t.same(
        (await store.changedIn(['!r:test'], 1, 3)).map((r) => r.eventId),
        ['$m', '$p'],
      );
      t.same(
        (await store.changedIn(['!r:test'], 3, 4)).map((r) => r.eventId),
        [],
      );
      t.same(
        (await store.allIn(['!other:test'], 4)).map((r) => r.eventId),
        ['$o'],
      );
      t.same(await store.changedIn([], 0, 10), []);
    });

    await t.test('the migration rolls back', async (t) => {
      await receiptsMigration.down(db);
      t.equal(await db.schema.hasTable('receipts_receipts'), false);
    });
  });
});
