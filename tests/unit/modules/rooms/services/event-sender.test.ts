import t from 'tap';
import { createLogger } from '../../../../../core/logger.js';
import { InProcessNotifier } from '../../../../../core/notifier/in-process.js';
import { SpamCheckerRegistry } from '../../../../../core/plugins/registry/spam-checker.js';
import { generateSigningKey } from '../../../../../core/protocol/signing-key.js';
import { openDatabase } from '../../../../../core/storage/database.js';
import { migrateToLatest } from '../../../../../core/storage/migrate.js';
import rooms from '../../../../../modules/rooms/index.js';
import { asValue } from 'awilix';
import { createAxonContainer, type Cradle } from '../../../../../core/container.js';
import { withAllDatabases } from '../../../../helpers/with-all-databases.js';

void t.test('two writers with separate caches (two processes) never fork the DAG', async (t) => {
  await withAllDatabases(t, async (t, database) => {
    const db = await openDatabase(database, process.cwd());
    t.teardown(() => db.destroy());
    const logger = createLogger('silent');
    await migrateToLatest(db, [rooms], logger);
    const deps = {
      db,
      logger,
      serverName: 'x.test',
      signingKey: generateSigningKey(),
      notifier: new InProcessNotifier(),
      spamCheckers: new SpamCheckerRegistry({ logger }),
    };
    const published: number[] = [];
    deps.notifier.subscribe({ all: true }, (c) => published.push(c.position));
    /** The rooms services of one process: their own container, so their own caches. */
    const processOf = (): Cradle => {
      const container = createAxonContainer();
      for (const [name, value] of Object.entries(deps)) container.register(name, asValue(value));
      container.register('authApi', asValue({ getProfile: () => Promise.resolve(undefined) }));
      rooms.register({ container, config: { default_room_version: '12' }, logger });
      return container.cradle;
    };
    const one = processOf();
    const two = processOf();
    const alice = { userId: '@alice:x.test', deviceId: 'D' };
    const roomId = await one.roomsCreation.createRoom(alice, {});
    await two.roomsHeads.get(roomId); // warm the second cache, then let the first move on
    for (let i = 0; i < 10; i++) {
      const writer = i % 2 ? two : one;
      await writer.roomsEvents.sendMessage(alice, roomId, 'm.room.message', `t${i}`, { body: `${i}` });
    }
    const events = await one.roomsTimelineStore.roomEventsTopological(
      roomId,
      { depth: -1, stream: 0 },
      'f',
      100,
    );
    for (let i = 1; i < events.length; i++) {
      t.same(await one.roomsEventStore.prevEventsOf(events[i]!.eventId), [events[i - 1]!.eventId]);
    }
    t.equal(events.filter((e) => e.type === 'm.room.message').length, 10);
    t.same(
      published,
      [...published].sort((a, b) => a - b),
      'stream positions are announced in order',
    );
    t.equal(published[published.length - 1], events[events.length - 1]!.streamOrdering);
  });
});
