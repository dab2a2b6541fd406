/**
 * The RoomEventFilter's `related_by_senders` / `related_by_rel_types` over HTTP (MSC3440; the spec's filter
 * schema does not list them, Synapse serves them): /messages, /context (its events and, as Synapse, its state)
 * and /sync (timeline, and as Synapse's `filter_room_state` the state sections) keep only the events that a live
 * relation of the given types and/or from the given senders points to. Both engines.
 */
import t from 'tap';
import { withAllDatabases } from '../../../helpers/with-all-databases.js';
import { startRoomsServer, type RoomsTestServer, type TestUser } from '../rooms/rooms-test-server.js';

// Test bodies read arbitrary JSON.
/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = any;

let txn = 0;
const enc = encodeURIComponent;

async function sendContent(
  server: RoomsTestServer,
  user: TestUser,
  roomId: string,
  content: Record<string, unknown>,
  type = 'm.room.message',
): Promise<string> {
  const res = await server.call(user, 'PUT', server.room(roomId, `/send/${type}/rf${++txn}`), content);
  if (res.status !== 200) throw new Error(`send failed: ${res.status} ${res.text}`);
  return res.body.event_id as string;
}

const relates = (relType: string, eventId: string, extra: Record<string, unknown> = {}) => ({
  msgtype: 'm.text',
  body: `${relType} child`,
  'm.relates_to': { rel_type: relType, event_id: eventId, ...extra },
});

void t.test('related_by_senders / related_by_rel_types', async (t) => {
  await withAllDatabases(t, async (t, database) => {
    const server = await startRoomsServer(t, { database });
    const alice = await server.user('alice');
    const bob = await server.user('bob');
    const roomId = await server.createRoom(alice, { preset: 'public_chat' });
    await server.call(bob, 'POST', server.room(roomId, '/join'), {});
    const before = await server.call(alice, 'GET', '/_matrix/client/v3/sync');
    const since = before.body.next_batch as string;

    const threadRoot = await server.send(alice, roomId, 'thread root');
    const referenced = await server.send(alice, roomId, 'referenced');
    const plain = await server.send(alice, roomId, 'plain');
    const redactedOnly = await server.send(alice, roomId, 'its only reply is redacted');
    await sendContent(server, bob, roomId, relates('m.thread', threadRoot));
    await sendContent(server, alice, roomId, relates('m.reference', referenced));
    await sendContent(
      server,
      bob,
      roomId,
      { 'm.relates_to': { rel_type: 'm.annotation', event_id: plain, key: '👍' } },
      'm.reaction',
    );
    const gone = await sendContent(server, bob, roomId, relates('m.reference', redactedOnly));
    const red = await server.call(bob, 'PUT', server.room(roomId, `/redact/${gone}/rfr${++txn}`), {});
    t.equal(red.status, 200);

    const messages = async (filter: Record<string, unknown>): Promise<string[]> => {
      const res = await server.call(
        alice,
        'GET',
        server.room(roomId, `/messages?dir=b&limit=50&filter=${enc(JSON.stringify(filter))}`),
      );
      t.equal(res.status, 200, JSON.stringify(filter));
      return (res.body.chunk as Json[]).map((e) => e.event_id as string).sort();
    };

    await t.test('/messages', async (t) => {
      t.same(await messages({ related_by_rel_types: ['m.thread'] }), [threadRoot]);
      t.same(
        await messages({ related_by_rel_types: ['m.thread', 'm.reference'] }),
        [threadRoot, referenced].sort(),
      );
      t.same(
        await messages({ related_by_senders: [bob.userId] }),
        [threadRoot, plain].sort(),
        'a redacted child does not count',
      );
      t.same(await messages({ related_by_senders: [alice.userId] }), [referenced]);
      t.same(
        await messages({ related_by_senders: [bob.userId], related_by_rel_types: ['m.reference'] }),
        [],
        'both lists restrict the same child',
      );
      t.same(
        await messages({
          related_by_senders: [bob.userId],
          related_by_rel_types: ['m.annotation'],
          types: ['m.room.message'],
        }),
        [plain],
        'combined with the other fields',
      );
      const all = await messages({});
      t.same(await messages({ related_by_senders: [] }), all, 'an empty list does not restrict');
      const bad = await server.call(
        alice,
        'GET',
        server.room(roomId, `/messages?dir=b&filter=${enc(JSON.stringify({ related_by_senders: 'x' }))}`),
      );
      t.equal(bad.status, 400);
      t.equal(bad.body.errcode, 'M_INVALID_PARAM');
    });

    await t.test('/context', async (t) => {
      const filter = enc(JSON.stringify({ related_by_rel_types: ['m.thread', 'm.reference'] }));
      const res = await server.call(
        alice,
        'GET',
        server.room(roomId, `/context/${plain}?limit=10&filter=${filter}`),
      );
      t.equal(res.status, 200);
      t.same(
        res.body.events_before.map((e: Json) => e.event_id),
        [referenced, threadRoot],
      );
      t.same(res.body.events_after, []);
    });

    await t.test('/sync timeline filter', async (t) => {
      const filter = enc(JSON.stringify({ room: { timeline: { related_by_senders: [bob.userId] } } }));
      const res = await server.call(
        alice,
        'GET',
        `/_matrix/client/v3/sync?since=${enc(since)}&filter=${filter}`,
      );
      t.equal(res.status, 200);
      const ids = (res.body.rooms.join[roomId].timeline.events as Json[]).map((e) => e.event_id).sort();
      t.same(ids, [threadRoot, plain].sort());
      const uploaded = await server.call(
        alice,
        'POST',
        `/_matrix/client/v3/user/${enc(alice.userId)}/filter`,
        {
          room: { timeline: { related_by_rel_types: 'm.thread' } },
        },
      );
      t.equal(uploaded.status, 400, 'a malformed list is refused at upload');
    });

    await t.test('state: /sync state and state_after, /context state', async (t) => {
      // A state event some relation points to: a reference from bob to the room's topic.
      const setTopic = await server.call(alice, 'PUT', server.room(roomId, '/state/m.room.topic/'), {
        topic: 'hello',
      });
      t.equal(setTopic.status, 200);
      const topic = setTopic.body.event_id as string;
      const topicRef = await sendContent(server, bob, roomId, relates('m.reference', topic));
      const sync = async (filter: Record<string, unknown>, extra = ''): Promise<Json> => {
        const res = await server.call(
          alice,
          'GET',
          `/_matrix/client/v3/sync?filter=${enc(JSON.stringify(filter))}${extra}`,
        );
        t.equal(res.status, 200);
        return res.body.rooms.join[roomId];
      };
      const stateIds = (room: Json, key = 'state'): string[] =>
        (room[key].events as Json[]).map((e) => e.event_id as string).sort();

      const unfiltered = await sync({ room: { timeline: { limit: 1 } } });
      t.ok(stateIds(unfiltered).length > 3, 'the whole state without the keys');
      const byType = await sync({
        room: { timeline: { limit: 1 }, state: { related_by_rel_types: ['m.reference'] } },
      });
      t.same(stateIds(byType), [topic], 'only the state event a reference points to');
      const bySender = await sync({
        room: { timeline: { limit: 1 }, state: { related_by_senders: [alice.userId] } },
      });
      t.same(stateIds(bySender), [], 'no state event has a relation from alice');
      const lazy = await sync({
        room: {
          timeline: { limit: 1 },
          state: { lazy_load_members: true, related_by_senders: [bob.userId] },
        },
      });
      t.same(stateIds(lazy), [topic], 'lazy-loaded members pass the same filter');
      const after = await sync(
        { room: { timeline: { limit: 1 }, state: { related_by_rel_types: ['m.reference'] } } },
        '&use_state_after=true',
      );
      t.same(stateIds(after, 'state_after'), [topic], 'state_after too');

      const ctx = await server.call(
        alice,
        'GET',
        server.room(
          roomId,
          `/context/${topicRef}?limit=0&filter=${enc(JSON.stringify({ related_by_rel_types: ['m.reference'] }))}`,
        ),
      );
      t.equal(ctx.status, 200);
      t.same(
        (ctx.body.state as Json[]).map((e) => e.event_id),
        [topic],
        '/context state: the filter applies to it, as in Synapse',
      );
      const ctxTypes = await server.call(
        alice,
        'GET',
        server.room(
          roomId,
          `/context/${topicRef}?limit=0&filter=${enc(JSON.stringify({ types: ['m.room.create'] }))}`,
        ),
      );
      t.same(
        (ctxTypes.body.state as Json[]).map((e) => e.type),
        ['m.room.create'],
        '/context state: the event fields too',
      );
    });
  });
});
