/**
 * State resolution where forks of the room DAG meet, between two Axon servers over TLS: the test plays B
 * (events signed with B's real key, sent with `PUT /send`), building events on *older* points of A's room
 * while A's users write on the head. What A's resolved current state is, and what A's users see in /sync
 * and /state, is the check — for room versions 1 (state resolution v1), 10 (v2) and 12 (v2.1), on both
 * engines.
 *
 * The story, per room version (alice created the room with topic T0; carol is alice's neighbour on A; bob
 * is B's; P1 gives bob 90, carol 50 and the power levels event 90, so alice (100 or creator) outranks bob):
 *  1. carol sets the topic on A's head (TC) while bob, on a fork off P1, lowers carol to 0 (P2). Resolved:
 *     P2 (it is allowed after P1), and carol's topic fails under P2, so the topic is T0 again — a change no
 *     new event carries: alice's next /sync has T0 in `state`.
 *  1b. alice and bob both change the power levels, on the head and on a fork: A's current state is the
 *     resolution of the two (as computed independently), and /state and /sync's `state_after` show it.
 *  2. bob bans carol on a fork off the merge point while carol talks on A's head: the ban is resolved in
 *     (her join fails after it); her message stays; she can send no more and her /sync shows she left.
 *  3. alice bans bob on A's head; a message of bob's on a fork off before the ban is soft-failed.
 */
import t, { type Test } from 'tap';
import { stateKey, type PduJson } from '../../../../core/protocol/pdu.js';
import { makeUser, openRegistrationConfig, type TestUser } from '../../../helpers/fixtures.js';
import { freshDatabase, pgUnavailableReason, type EngineName } from '../../../helpers/with-all-databases.js';
import { headAt, joinFrom, remoteEvent } from './remote-events.js';
import { makeTestCa, startFederatedServer, type FederatedServer } from './test-federation.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const enc = encodeURIComponent;
const ca = await makeTestCa(t);
const b = await startFederatedServer(t, ca);
const bob = `@bob:${b.serverName}`;

function fromB(
  a: FederatedServer,
  method: 'GET' | 'PUT',
  path: string,
  options: { body?: unknown; query?: Record<string, string | string[]> } = {},
): Promise<Json> {
  return b.kernel.container.cradle.federationClient.request({
    method,
    destination: a.serverName,
    path,
    ...options,
  });
}

let txnCounter = 0;
async function sendPdus(a: FederatedServer, pdus: PduJson[]): Promise<Json> {
  return fromB(a, 'PUT', `/_matrix/federation/v1/send/res${++txnCounter}`, {
    body: { origin: b.serverName, origin_server_ts: Date.now(), pdus },
  });
}

async function sync(a: FederatedServer, user: TestUser, since?: string): Promise<Json> {
  const query = since === undefined ? '' : `?since=${enc(since)}&timeout=0`;
  const res = await a.request('GET', `/_matrix/client/v3/sync${query}`, { token: user.accessToken });
  if (res.status !== 200) throw new Error(`sync: ${res.status} ${res.text}`);
  return res.body;
}

async function putState(
  a: FederatedServer,
  user: TestUser,
  roomId: string,
  type: string,
  content: unknown,
  key = '',
): Promise<{ status: number; eventId: string }> {
  const res = await a.request('PUT', `/_matrix/client/v3/rooms/${enc(roomId)}/state/${type}/${enc(key)}`, {
    token: user.accessToken,
    body: content,
  });
  return { status: res.status, eventId: res.body?.event_id as string };
}

async function sendMessage(
  a: FederatedServer,
  user: TestUser,
  roomId: string,
  body: string,
): Promise<{ status: number; eventId: string }> {
  const res = await a.request(
    'PUT',
    `/_matrix/client/v3/rooms/${enc(roomId)}/send/m.room.message/m${++txnCounter}`,
    {
      token: user.accessToken,
      body: { msgtype: 'm.text', body },
    },
  );
  return { status: res.status, eventId: res.body?.event_id as string };
}

/** The room's state as A's user reads it with GET /state, by "type|state_key". */
async function stateOf(a: FederatedServer, user: TestUser, roomId: string): Promise<Map<string, Json>> {
  const res = await a.request('GET', `/_matrix/client/v3/rooms/${enc(roomId)}/state`, {
    token: user.accessToken,
  });
  t.equal(res.status, 200, 'GET /state');
  return new Map((res.body as Json[]).map((e) => [`${e.type}|${e.state_key}`, e]));
}

async function story(
  t: Test,
  a: FederatedServer,
  alice: TestUser,
  carol: TestUser,
  roomVersion: string,
): Promise<void> {
  const cradle = a.kernel.container.cradle;
  const created = await a.request('POST', '/_matrix/client/v3/createRoom', {
    token: alice.accessToken,
    body: { preset: 'public_chat', room_version: roomVersion, topic: 'T0' },
  });
  t.equal(created.status, 200, 'createRoom');
  const roomId = created.body.room_id as string;
  t.equal(
    (await a.request('POST', `/_matrix/client/v3/join/${enc(roomId)}`, { token: carol.accessToken })).status,
    200,
  );
  await joinFrom(a, b, roomId, bob);
  const t0 = (await stateOf(a, alice, roomId)).get('m.room.topic|')!;
  const pl = (await stateOf(a, alice, roomId)).get('m.room.power_levels|')!.content;
  const p1Content = {
    ...pl,
    users: { ...pl.users, [bob]: 90, [carol.userId]: 50 },
    events: { ...pl.events, 'm.room.power_levels': 90 },
  };
  const p1 = await putState(a, alice, roomId, 'm.room.power_levels', p1Content);
  t.equal(p1.status, 200, 'P1: bob 90, carol 50');

  // 1. carol's topic on the head; bob's P2 (carol → 0) on a fork off P1.
  const forkPoint = await headAt(a, roomId);
  const since = (await sync(a, alice)).next_batch as string;
  const tc = await putState(a, carol, roomId, 'm.room.topic', { topic: 'from carol' });
  t.equal(tc.status, 200, 'carol may set the topic (50)');
  const p2 = await remoteEvent(
    a,
    b,
    roomId,
    {
      sender: bob,
      type: 'm.room.power_levels',
      state_key: '',
      content: { ...p1Content, users: { ...p1Content.users, [carol.userId]: 0 } },
    },
    forkPoint,
  );
  t.same(await sendPdus(a, [p2.pdu]), { pdus: { [p2.eventId]: {} } }, 'B’s fork is accepted');
  const head = (await cradle.roomsHeads.get(roomId))!;
  t.same([...head.extremities].sort(), [tc.eventId, p2.eventId].sort(), 'two forward extremities');
  let state = await stateOf(a, alice, roomId);
  t.equal(state.get('m.room.power_levels|')?.event_id, p2.eventId, 'resolved: bob’s power levels');
  t.equal(
    state.get('m.room.topic|')?.event_id,
    t0.event_id,
    'resolved: carol’s topic fails under them, T0 again',
  );
  t.equal(state.get('m.room.topic|')?.content.topic, 'T0');
  const current = await cradle.roomsStateStore.currentStateEvents(roomId);
  t.equal(current.find((e) => e.type === 'm.room.topic')?.eventId, t0.event_id, 'rooms_current_state agrees');
  const room = (await sync(a, alice, since)).rooms.join[roomId];
  const timelineIds = (room.timeline.events as Json[]).map((e) => e.event_id);
  t.ok(
    timelineIds.includes(p2.eventId) && timelineIds.includes(tc.eventId),
    'both forks in alice’s timeline',
  );
  t.ok(
    (room.state.events as Json[]).some((e) => e.event_id === t0.event_id && e.content.topic === 'T0'),
    'the topic resolved back to T0 is in alice’s /sync state',
  );
  t.equal(
    (await putState(a, carol, roomId, 'm.room.topic', { topic: 'again' })).status,
    403,
    'carol is at 0 now',
  );

  // 1b. power levels changed on both sides: alice on the head, bob on a fork off the same point. Whichever
  // the room version's algorithm picks, A's current state must be the resolution of the two states, and
  // alice's /sync must end on it (the PL event is in her timeline, or in `state` when resolution overruled it).
  const p2Content = state.get('m.room.power_levels|')!.content;
  const pointB = await headAt(a, roomId);
  const sinceB = (await sync(a, alice)).next_batch as string;
  const pa = await putState(a, alice, roomId, 'm.room.power_levels', {
    ...p2Content,
    events: { ...p2Content.events, 'm.room.name': 60 },
  });
  t.equal(pa.status, 200, 'alice changes the power levels on the head');
  const pb = await remoteEvent(
    a,
    b,
    roomId,
    {
      sender: bob,
      type: 'm.room.power_levels',
      state_key: '',
      content: { ...p2Content, events: { ...p2Content.events, 'm.room.avatar': 70 } },
    },
    pointB,
  );
  t.same(await sendPdus(a, [pb.pdu]), { pdus: { [pb.eventId]: {} } }, 'bob’s on a fork');
  const groups = await cradle.roomsEventStore.getEvents([pa.eventId, pb.eventId]);
  const expected = await cradle.roomsStateResolver.resolve(
    (await cradle.roomsHeads.get(roomId))!.version,
    await Promise.all(
      [pa.eventId, pb.eventId].map((id) => cradle.roomsStateStore.stateOfGroup(groups.get(id)!.stateGroup!)),
    ),
  );
  const currentIds = new Map(
    (await cradle.roomsStateStore.currentStateEvents(roomId)).map((e) => [
      `${e.type}|${e.stateKey}`,
      e.eventId,
    ]),
  );
  t.same(
    [...currentIds].sort(),
    [...expected].map(([k, id]) => [k.replace('\u0000', '|'), id]).sort(),
    'the current state is the resolution of the two forks’ states',
  );
  const winner = expected.get(stateKey('m.room.power_levels', ''))!;
  t.ok([pa.eventId, pb.eventId].includes(winner), 'one of the two power levels events');
  state = await stateOf(a, alice, roomId);
  t.equal(state.get('m.room.power_levels|')?.event_id, winner, '/state agrees');
  // The legacy `state` section comes before the timeline, which holds both events: only `state_after`
  // (MSC4222, use_state_after) can say which one holds. It must.
  const after = await a.request(
    'GET',
    `/_matrix/client/v3/sync?since=${enc(sinceB)}&timeout=0&use_state_after=true`,
    { token: alice.accessToken },
  );
  const stateAfter = after.body.rooms.join[roomId].state_after.events as Json[];
  t.equal(
    stateAfter.find((e) => e.type === 'm.room.power_levels')?.event_id,
    winner,
    'alice’s /sync state_after holds the resolved power levels',
  );

  // 2. bob bans carol on a fork off the two extremities while carol talks on the head.
  const mergePoint = await headAt(a, roomId);
  const since2 = (await sync(a, alice)).next_batch as string;
  const carolSince = (await sync(a, carol)).next_batch as string;
  const said = await sendMessage(a, carol, roomId, 'still here');
  t.equal(said.status, 200, 'carol talks on the head');
  const ban = await remoteEvent(
    a,
    b,
    roomId,
    {
      sender: bob,
      type: 'm.room.member',
      state_key: carol.userId,
      content: { membership: 'ban' },
    },
    mergePoint,
  );
  t.same(
    await sendPdus(a, [ban.pdu]),
    { pdus: { [ban.eventId]: {} } },
    'the ban (a merge of two forks) is accepted',
  );
  state = await stateOf(a, alice, roomId);
  t.equal(state.get(`m.room.member|${carol.userId}`)?.content.membership, 'ban', 'resolved: carol is banned');
  t.notOk((await cradle.roomsApi.members(roomId)).includes(carol.userId), 'no longer a member');
  const room2 = (await sync(a, alice, since2)).rooms.join[roomId];
  const seen2 = (room2.timeline.events as Json[]).map((e) => e.event_id);
  t.ok(seen2.includes(said.eventId) && seen2.includes(ban.eventId), 'alice sees carol’s message and the ban');
  t.equal((await sendMessage(a, carol, roomId, 'gone?')).status, 403, 'carol can send no more');
  const carolSync = await sync(a, carol, carolSince);
  t.ok(carolSync.rooms?.leave?.[roomId], 'carol’s /sync shows she left the room');

  // 3. alice bans bob on the head; bob's message on a fork off before the ban is soft-failed.
  const beforeBan = await headAt(a, roomId);
  const since3 = (await sync(a, alice)).next_batch as string;
  const banned = await a.request('POST', `/_matrix/client/v3/rooms/${enc(roomId)}/ban`, {
    token: alice.accessToken,
    body: { user_id: bob },
  });
  t.equal(banned.status, 200, 'alice bans bob');
  const late = await remoteEvent(
    a,
    b,
    roomId,
    {
      sender: bob,
      type: 'm.room.message',
      content: { msgtype: 'm.text', body: 'from the other fork' },
    },
    beforeBan,
  );
  t.same(await sendPdus(a, [late.pdu]), { pdus: { [late.eventId]: {} } }, 'processed');
  t.ok(await cradle.roomsSoftFailedStore.get(late.eventId), 'soft-failed');
  const room3 = (await sync(a, alice, since3)).rooms.join[roomId];
  t.notOk(
    (room3.timeline.events as Json[]).some((e) => e.event_id === late.eventId),
    'never in alice’s /sync',
  );
}

const pgUnavailable = await pgUnavailableReason();
for (const engine of ['sqlite', 'pg'] as EngineName[]) {
  void t.test(engine, { skip: (engine === 'pg' && pgUnavailable) || false }, async (t) => {
    const a = await startFederatedServer(t, ca, { ...openRegistrationConfig }, 'localhost', {
      database: await freshDatabase(t, engine),
    });
    const alice = await makeUser(a, { localpart: 'alice' });
    for (const roomVersion of ['1', '10', '12']) {
      const carol = await makeUser(a, { localpart: `carol${roomVersion}` });
      await t.test(`room version ${roomVersion}`, async (t) => story(t, a, alice, carol, roomVersion));
    }
  });
}
