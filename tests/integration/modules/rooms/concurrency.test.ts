import t from 'tap';
import { withAllDatabases } from '../../../helpers/with-all-databases.js';
import { startRoomsServer } from './rooms-test-server.js';

void t.test('50 concurrent sends in one room make a linear DAG, each txn id once', async (t) => {
  await withAllDatabases(t, async (t, database) => {
    const server = await startRoomsServer(t, { database });
    const alice = await server.user('alice');
    const bob = await server.user('bob');
    const roomId = await server.createRoom(alice, { preset: 'public_chat' });
    await server.call(bob, 'POST', server.room(roomId, '/join'), {});
    const sends = Array.from({ length: 50 }, (_, i) => {
      const user = i % 2 ? bob : alice;
      return server.call(user, 'PUT', server.room(roomId, `/send/m.room.message/c${i}`), {
        msgtype: 'm.text',
        body: `${i}`,
      });
    });
    // Each txn id sent twice at once: the duplicate must answer with the same event.
    const duplicates = Array.from({ length: 10 }, (_, i) =>
      server.call(i % 2 ? bob : alice, 'PUT', server.room(roomId, `/send/m.room.message/c${i}`), {
        msgtype: 'm.text',
        body: `${i}`,
      }),
    );
    const results = await Promise.all([...sends, ...duplicates]);
    for (const r of results) t.equal(r.status, 200, r.text);
    for (let i = 0; i < 10; i++)
      t.equal(results[50 + i]?.body.event_id, results[i]?.body.event_id, `txn c${i} answered once`);

    const { roomsTimelineStore, roomsEventStore, roomsRoomStore } = server.kernel.container.cradle;
    const events = await roomsTimelineStore.roomEventsTopological(
      roomId,
      { depth: -1, stream: 0 },
      'f',
      1000,
    );
    const messages = events.filter((e) => e.type === 'm.room.message');
    t.equal(messages.length, 50, 'exactly 50 messages persisted');
    for (let i = 1; i < events.length; i++) {
      const e = events[i]!;
      t.same(
        await roomsEventStore.prevEventsOf(e.eventId),
        [events[i - 1]!.eventId],
        'each event follows the previous one',
      );
      t.equal(e.depth, events[i - 1]!.depth + 1);
    }
    const room = await roomsRoomStore.getRoom(roomId);
    t.same(room?.forwardExtremities, [events[events.length - 1]!.eventId], 'one forward extremity');
  });
});
