/**
 * A thread's bundled `latest_event` respects the viewer's history visibility (spec "History visibility",
 * "Threading"): a member who left sees, as a thread's latest reply, the newest reply sent while they could
 * still see the room; a thread whose replies all came after they left carries no `m.thread` bundle for
 * them. Over HTTP on /messages and /event, both engines.
 */
import t from 'tap';
import { withAllDatabases } from '../../../helpers/with-all-databases.js';
import { startRoomsServer, type RoomsTestServer, type TestUser } from '../rooms/rooms-test-server.js';

// Test bodies read arbitrary JSON.
/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = any;

let txn = 0;

async function reply(server: RoomsTestServer, user: TestUser, roomId: string, root: string, body: string) {
  const res = await server.call(user, 'PUT', server.room(roomId, `/send/m.room.message/tv${++txn}`), {
    msgtype: 'm.text',
    body,
    'm.relates_to': { rel_type: 'm.thread', event_id: root },
  });
  if (res.status !== 200) throw new Error(`send failed: ${res.status} ${res.text}`);
  return res.body.event_id as string;
}

const threadOf = (e: Json): Json => e?.unsigned?.['m.relations']?.['m.thread'];

void t.test('thread latest_event and history visibility', async (t) => {
  await withAllDatabases(t, async (t, database) => {
    const server = await startRoomsServer(t, { database });
    const alice = await server.user('alice');
    const carol = await server.user('carol');
    const roomId = await server.createRoom(alice, { preset: 'public_chat' });
    t.equal((await server.call(carol, 'POST', server.room(roomId, '/join'), {})).status, 200);

    const root1 = await server.send(alice, roomId, 'root one');
    const seen = await reply(server, alice, roomId, root1, 'reply carol saw');
    const root2 = await server.send(alice, roomId, 'root two');
    t.equal((await server.call(carol, 'POST', server.room(roomId, '/leave'), {})).status, 200);
    const unseen = await reply(server, alice, roomId, root1, 'reply after carol left');
    const unseen2 = await reply(server, alice, roomId, root2, 'only reply, after carol left');

    const messages = async (user: TestUser): Promise<Json[]> => {
      const res = await server.call(user, 'GET', server.room(roomId, '/messages?dir=b&limit=50'));
      t.equal(res.status, 200);
      return res.body.chunk as Json[];
    };
    const find = (chunk: Json[], id: string): Json => chunk.find((e) => e.event_id === id);

    await t.test('a member who can see everything gets the newest replies', async (t) => {
      const chunk = await messages(alice);
      t.equal(threadOf(find(chunk, root1))?.latest_event?.event_id, unseen);
      t.equal(threadOf(find(chunk, root1))?.count, 2);
      t.equal(threadOf(find(chunk, root2))?.latest_event?.event_id, unseen2);
    });

    await t.test('after leaving: the newest reply still visible, or no thread bundle', async (t) => {
      const chunk = await messages(carol);
      t.notOk(find(chunk, unseen), 'the later reply is not served to carol');
      const thread1 = threadOf(find(chunk, root1));
      t.equal(thread1?.latest_event?.event_id, seen, 'falls back to the reply carol could see');
      t.equal(thread1?.latest_event?.content?.body, 'reply carol saw');
      t.ok(find(chunk, root2), 'root two is served');
      t.notOk(threadOf(find(chunk, root2)), 'no visible reply: no m.thread bundle');

      const ev = await server.call(carol, 'GET', server.room(roomId, `/event/${root1}`));
      t.equal(ev.status, 200);
      t.equal(threadOf(ev.body)?.latest_event?.event_id, seen, '/event');
      const ev2 = await server.call(carol, 'GET', server.room(roomId, `/event/${root2}`));
      t.equal(ev2.status, 200);
      t.notOk(threadOf(ev2.body), '/event: no thread bundle');
    });
  });
});
