/**
 * The commit seam: `EventPersister.persistEvents` persists events built elsewhere (as the federation receive
 * pipeline will hand them over: a signed PDU, checked, maybe rejected), on both engines.
 */
import t from 'tap';
import { asValue } from 'awilix';
import { createAxonContainer, type Cradle } from '../../../../../core/container.js';
import { createLogger } from '../../../../../core/logger.js';
import { InProcessNotifier } from '../../../../../core/notifier/in-process.js';
import { SpamCheckerRegistry } from '../../../../../core/plugins/registry/spam-checker.js';
import { buildEvent } from '../../../../../core/protocol/event-builder.js';
import { stateKey, type JsonObject } from '../../../../../core/protocol/pdu.js';
import { generateSigningKey } from '../../../../../core/protocol/signing-key.js';
import { openDatabase } from '../../../../../core/storage/database.js';
import { migrateToLatest } from '../../../../../core/storage/migrate.js';
import rooms from '../../../../../modules/rooms/index.js';
import type { PersistedEvent } from '../../../../../modules/rooms/api.js';
import type { RoomHead } from '../../../../../modules/rooms/services/room-heads.js';
import { withAllDatabases } from '../../../../helpers/with-all-databases.js';

void t.test('persistEvents stores a PDU built elsewhere, and a rejected one without effect', async (t) => {
  await withAllDatabases(t, async (t, database) => {
    const db = await openDatabase(database, process.cwd());
    t.teardown(() => db.destroy());
    const logger = createLogger('silent');
    await migrateToLatest(db, [rooms], logger);
    const signingKey = generateSigningKey();
    const container = createAxonContainer();
    container.register({
      db: asValue(db),
      logger: asValue(logger),
      serverName: asValue('x.test'),
      signingKey: asValue(signingKey),
      notifier: asValue(new InProcessNotifier()),
      spamCheckers: asValue(new SpamCheckerRegistry({ logger })),
    });
    container.register('authApi', asValue({ getProfile: () => Promise.resolve(undefined) }));
    rooms.register({ container, config: { default_room_version: '12' }, logger });
    const c: Cradle = container.cradle;

    const alice = '@alice:x.test';
    const roomId = await c.roomsCreation.createRoom({ userId: alice, deviceId: 'D' }, {});
    const persisted: PersistedEvent[] = [];
    c.roomsHooks.onEventPersisted((e) => void persisted.push(e));
    /** A signed state event on the current head, as another server's PDU would arrive. */
    const remoteStyle = (head: RoomHead, sender: string, type: string, content: JsonObject) =>
      buildEvent({
        roomVersion: head.version,
        serverName: 'x.test',
        key: signingKey,
        partial: {
          room_id: roomId,
          sender,
          type,
          state_key: '',
          content,
          prev_events: head.extremities,
          auth_events: [...head.state.values()].map((e) => e.eventId),
          depth: head.maxDepth + 1,
        },
        referenceHash: () => undefined,
      });

    const before = (await c.roomsHeads.get(roomId))!;
    const topic = remoteStyle(before, alice, 'm.room.topic', { topic: 'from elsewhere' });
    const [accepted] = await c.roomsHeads.withRoomLock(roomId, () =>
      c.roomsEventPersister.persistEvents(before, [{ eventId: topic.eventId, pdu: topic.pdu }]),
    );
    t.ok(accepted);
    await c.roomsEventPersister.announce(accepted!.stored);
    t.equal((await c.roomsApi.currentStateEvent(roomId, 'm.room.topic', ''))?.event_id, topic.eventId);
    const afterTopic = (await c.roomsHeads.get(roomId))!;
    t.same(afterTopic.extremities, [topic.eventId], 'the event is the new forward extremity');
    t.same(
      await c.roomsEventStore.prevEventsOf(topic.eventId),
      before.extremities,
      'edges from its own prev_events',
    );
    t.same(
      persisted.map((e) => e.eventId),
      [topic.eventId],
    );

    const mallory = remoteStyle(afterTopic, '@mallory:x.test', 'm.room.name', { name: 'taken over' });
    const [rejected] = await c.roomsHeads.withRoomLock(roomId, () =>
      c.roomsEventPersister.persistEvents(afterTopic, [
        { eventId: mallory.eventId, pdu: mallory.pdu, rejectedReason: 'sender is not in the room' },
      ]),
    );
    t.equal(rejected?.stored.rejectedReason, 'sender is not in the room');
    const stored = await c.roomsEventStore.getEvent(mallory.eventId);
    t.equal(stored?.rejectedReason, 'sender is not in the room', 'stored with its reason');
    t.equal(await c.roomsApi.currentStateEvent(roomId, 'm.room.name', ''), undefined, 'no state change');
    const head = (await c.roomsHeads.get(roomId))!;
    t.same(head.extremities, [topic.eventId], 'not a forward extremity');
    t.notOk(head.state.has(stateKey('m.room.name', '')));

    // The local path still builds on the head the seam left.
    const sent = await c.roomsEvents.sendMessage(
      { userId: alice, deviceId: 'D' },
      roomId,
      'm.room.message',
      't1',
      {
        body: 'hi',
      },
    );
    t.same(await c.roomsEventStore.prevEventsOf(sent.eventId), [topic.eventId]);
  });
});
