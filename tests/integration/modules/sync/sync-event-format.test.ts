/**
 * The sync filter's `event_format: "federation"` (spec client-server-api "Filtering"): the timeline and the
 * state of joined and left rooms come out as PDUs — with `event_id` and the server's `unsigned`, as Synapse
 * serves them — whether the filter is inline or an uploaded id; invites keep their stripped state; the default
 * client format carries none of the PDU's fields.
 */
import t, { type Test } from 'tap';
import { withAllDatabases } from '../../../helpers/with-all-databases.js';
import { SyncTestServer, type Client, type Json } from './sync-client.js';

const PDU_ONLY = ['prev_events', 'auth_events', 'depth', 'hashes', 'signatures'];

const FEDERATION = { event_format: 'federation', room: { timeline: { limit: 3 } } };

void withAllDatabases(t, async (t, database) => {
  const s = await SyncTestServer.start(t, database);
  const alice = await s.user('alice');
  const bob = await s.user('bob');
  const carol = await s.user('carol');

  const uploadFilter = async (user: Client, filter: unknown): Promise<string> =>
    (await s.ok(user, 'POST', `/_matrix/client/v3/user/${encodeURIComponent(user.userId)}/filter`, filter))
      .filter_id as string;

  /** Asserts `e` is the PDU of an event of `roomId` sent by a user of this server. */
  const assertPdu = (t: Test, e: Json, roomId: string, what: string): void => {
    t.type(e.event_id, 'string', `${what}: event_id`);
    if (e.type === 'm.room.create') t.notOk('room_id' in e, `${what}: a v12 create event has no room_id`);
    else t.equal(e.room_id, roomId, `${what}: room_id`);
    t.ok(Array.isArray(e.prev_events), `${what}: prev_events`);
    t.ok(Array.isArray(e.auth_events), `${what}: auth_events`);
    // In v12 the create event is no auth event (the room id names it), so only the creator's join has none.
    if (e.type === 'm.room.message') t.ok(e.auth_events.length > 0, `${what}: auth_events not empty`);
    t.type(e.depth, 'number', `${what}: depth`);
    t.type(e.hashes?.sha256, 'string', `${what}: hashes`);
    t.ok(e.signatures?.['test.local'], `${what}: signed by the server`);
    t.type(e.origin_server_ts, 'number', `${what}: origin_server_ts`);
    t.type(e.unsigned?.age, 'number', `${what}: unsigned.age`);
  };

  const assertClient = (t: Test, e: Json, what: string): void => {
    t.same(
      PDU_ONLY.filter((k) => k in e),
      [],
      `${what}: no PDU fields in the client format`,
    );
    t.notOk('room_id' in e, `${what}: no room_id in the client format`);
  };

  const roomId = await s.createRoom(alice, { name: 'Fed' });
  await s.state(alice, roomId, 'm.room.topic', { topic: 'first' });
  await s.invite(alice, roomId, bob);
  await s.join(bob, roomId);
  const sent = await s.send(alice, roomId, 'hello');

  const inlineFilter = JSON.stringify(FEDERATION);
  const bobFilter = await uploadFilter(bob, FEDERATION);
  const aliceFilter = await uploadFilter(alice, FEDERATION);

  await t.test('initial sync: timeline and state as PDUs, inline and by filter id', async (t) => {
    for (const [how, filter] of [
      ['inline', inlineFilter],
      ['filter id', bobFilter],
    ] as const) {
      const res = await s.syncOk(bob, { filter });
      const room = res.rooms.join[roomId];
      t.ok(room.timeline.events.length > 0 && room.state.events.length > 0, `${how}: timeline and state`);
      for (const e of [...room.timeline.events, ...room.state.events])
        assertPdu(t, e, roomId, `${how} ${e.type}`);
      const hello = room.timeline.events.find((e: Json) => e.event_id === sent);
      t.equal(hello?.sender, alice.userId, `${how}: sender`);
      t.same(hello?.content, { msgtype: 'm.text', body: 'hello' }, `${how}: content`);
      t.equal(hello?.type, 'm.room.message');
      const create = room.state.events.find((e: Json) => e.type === 'm.room.create');
      t.equal(create?.sender, alice.userId, `${how}: the create event in state`);
      t.equal(create?.content.room_version, '12');
      const topic = room.state.events.find((e: Json) => e.type === 'm.room.topic');
      t.same(topic?.content, { topic: 'first' }, `${how}: state content`);
      t.equal(topic?.state_key, '');
    }
  });

  await t.test('the default client format has none of the PDU fields', async (t) => {
    const res = await s.syncOk(bob, { filter: { room: { timeline: { limit: 3 } } } });
    const room = res.rooms.join[roomId];
    for (const e of [...room.timeline.events, ...room.state.events]) assertClient(t, e, e.type);
    t.ok(room.timeline.events.some((e: Json) => e.event_id === sent));
    const plain = await s.syncOk(bob);
    for (const e of [...plain.rooms.join[roomId].timeline.events, ...plain.rooms.join[roomId].state.events])
      assertClient(t, e, `no filter ${e.type}`);
  });

  await t.test("the sender's own device sees its transaction_id in the PDU's unsigned", async (t) => {
    const before = await s.syncOk(alice, { filter: aliceFilter });
    const mine = await s.send(alice, roomId, 'mine');
    const res = await s.syncOk(alice, { since: before.next_batch, filter: aliceFilter });
    const e = res.rooms.join[roomId].timeline.events.find((x: Json) => x.event_id === mine);
    assertPdu(t, e, roomId, 'own message');
    t.type(e.unsigned.transaction_id, 'string', 'transaction_id');
    const bobs = await s.syncOk(bob, { filter: { ...FEDERATION, room: { timeline: { limit: 1 } } } });
    t.notOk(bobs.rooms.join[roomId].timeline.events[0].unsigned.transaction_id, 'not for another user');
  });

  await t.test('gappy incremental sync: the state of the gap as PDUs with prev_content', async (t) => {
    const first = await s.syncOk(bob, { filter: bobFilter });
    await s.state(alice, roomId, 'm.room.topic', { topic: 'in the gap' });
    for (let i = 0; i < 5; i++) await s.send(alice, roomId, `gap${i}`);
    const res = await s.syncOk(bob, { since: first.next_batch, filter: bobFilter });
    const room = res.rooms.join[roomId];
    t.equal(room.timeline.limited, true);
    t.same(
      room.timeline.events.map((e: Json) => e.content.body),
      ['gap2', 'gap3', 'gap4'],
    );
    for (const e of room.timeline.events) assertPdu(t, e, roomId, `timeline ${e.content.body}`);
    t.same(
      room.state.events.map((e: Json) => e.type),
      ['m.room.topic'],
      'the state changed in the gap',
    );
    const topic = room.state.events[0];
    assertPdu(t, topic, roomId, 'gap topic');
    t.same(topic.content, { topic: 'in the gap' });
    t.same(topic.unsigned.prev_content, { topic: 'first' }, 'unsigned.prev_content');
    t.type(topic.unsigned.replaces_state, 'string', 'unsigned.replaces_state');
    const client = await s.syncOk(bob, {
      since: first.next_batch,
      filter: { room: { timeline: { limit: 3 } } },
    });
    for (const e of [...client.rooms.join[roomId].timeline.events, ...client.rooms.join[roomId].state.events])
      assertClient(t, e, `gap ${e.type}`);
  });

  await t.test('invites keep their stripped state', async (t) => {
    const before = await s.syncOk(carol, { filter: inlineFilter });
    await s.invite(alice, roomId, carol);
    const res = await s.syncOk(carol, { since: before.next_batch, filter: inlineFilter });
    const stripped = res.rooms.invite[roomId].invite_state.events;
    t.ok(stripped.some((e: Json) => e.type === 'm.room.name' && e.content.name === 'Fed'));
    for (const e of stripped) {
      t.same(Object.keys(e).sort(), ['content', 'sender', 'state_key', 'type'], `${e.type} is stripped`);
    }
  });

  await t.test('left rooms: the timeline up to the leave and the state as PDUs', async (t) => {
    const before = await s.syncOk(bob, { filter: bobFilter });
    await s.send(alice, roomId, 'bye');
    await s.leave(bob, roomId);
    const res = await s.syncOk(bob, { since: before.next_batch, filter: bobFilter });
    const left = res.rooms.leave[roomId];
    const last = left.timeline.events.at(-1);
    assertPdu(t, last, roomId, 'leave event');
    t.equal(last.content.membership, 'leave');
    t.equal(last.state_key, bob.userId);
    for (const e of left.timeline.events) assertPdu(t, e, roomId, `left timeline ${e.type}`);
    const withLeave = { ...FEDERATION, room: { ...FEDERATION.room, include_leave: true } };
    const initial = await s.syncOk(bob, { filter: withLeave });
    const archived = initial.rooms.leave[roomId];
    t.ok(archived.state.events.length > 0, 'include_leave: the state before the timeline');
    for (const e of [...archived.timeline.events, ...archived.state.events])
      assertPdu(t, e, roomId, `include_leave ${e.type}`);
  });
});
