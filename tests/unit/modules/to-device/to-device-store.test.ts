import t from 'tap';
import { openDatabase } from '../../../../core/storage/database.js';
import { ToDeviceStore } from '../../../../modules/to-device/store/to-device-store.js';
import { toDeviceMigration } from '../../../../modules/to-device/store/migrations/20261123000000_to_device.js';
import { withAllDatabases } from '../../../helpers/with-all-databases.js';

void withAllDatabases(t, async (t, database) => {
  const db = await openDatabase(database, '/tmp');
  t.teardown(() => db.destroy());
  await toDeviceMigration.up(db);
  const store = new ToDeviceStore({ db });
  const sender = (txnId: string) => ({ userId: '@s:x', deviceId: 'S', txnId });

  await t.test('a send gets one position; a repeated transaction id does nothing', async (t) => {
    const p = await store.enqueue(sender('1'), 'm.t', [
      { userId: '@a:x', deviceId: 'A', content: { n: 1 } },
      { userId: '@a:x', deviceId: 'B', content: { n: 1 } },
    ]);
    t.equal(p, 1);
    t.equal(
      await store.enqueue(sender('1'), 'm.t', [{ userId: '@a:x', deviceId: 'A', content: {} }]),
      undefined,
    );
    t.equal(await store.currentPosition(), 1);
    t.equal((await store.pending('@a:x', 'A', 0, 10, 100)).length, 1);
  });

  await t.test('pending reads one device in a window, oldest first, up to a limit', async (t) => {
    await store.enqueue(sender('2'), 'm.t', [{ userId: '@a:x', deviceId: 'A', content: { n: 2 } }]);
    await store.enqueue(sender('3'), 'm.t', [{ userId: '@a:x', deviceId: 'A', content: { n: 3 } }]);
    const all = await store.pending('@a:x', 'A', 0, 3, 100);
    t.same(
      all.map((m) => m.content['n']),
      [1, 2, 3],
    );
    t.same(
      (await store.pending('@a:x', 'A', 1, 3, 1)).map((m) => m.content['n']),
      [2],
    );
    t.same(await store.pending('@a:x', 'A', 0, 0, 100), []);
  });

  await t.test('acknowledge deletes up to the position for that device only', async (t) => {
    t.equal(await store.acknowledge('@a:x', 'A', 2), 2);
    t.same(
      (await store.pending('@a:x', 'A', 0, 10, 100)).map((m) => m.content['n']),
      [3],
    );
    t.equal((await store.pending('@a:x', 'B', 0, 10, 100)).length, 1);
  });

  await t.test('deleteForDevices drops a device queue', async (t) => {
    await store.deleteForDevices('@a:x', ['B']);
    t.same(await store.pending('@a:x', 'B', 0, 10, 100), []);
  });

  await t.test('down drops the tables', async (t) => {
    await toDeviceMigration.down(db);
    t.notOk(await db.schema.hasTable('to_device_messages'));
  });
});
