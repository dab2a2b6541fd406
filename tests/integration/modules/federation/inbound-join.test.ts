/**
 * Joins, host side, between two Axon servers over TLS: the test plays B (no outbound join code yet) — it
 * asks A's make_join, signs the template with B's real key and sends it with send_join v2; then B's user
 * talks in the room through /send and A's user sees it in /sync. Also /event, /state and /state_ids, and
 * the errors of each endpoint.
 */
import t from 'tap';
import { computeEventId } from '../../../../core/protocol/event-id.js';
import type { PduJson } from '../../../../core/protocol/pdu.js';
import { getRoomVersion, ROOM_VERSIONS } from '../../../../core/protocol/room-versions.js';
import { hashAndSignEvent } from '../../../../core/protocol/signing.js';
import { makeUser, openRegistrationConfig } from '../../../helpers/fixtures.js';
import { remoteEvent } from './remote-events.js';
import { failure, makeTestCa, startFederatedServer } from './test-federation.js';

const ca = await makeTestCa(t);
const a = await startFederatedServer(t, ca, { ...openRegistrationConfig });
const b = await startFederatedServer(t, ca);
const alice = await makeUser(a, { localpart: 'alice' });
const bob = `@bob:${b.serverName}`;
const ALL_VERSIONS = [...ROOM_VERSIONS.keys()];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
/** B asks A (signed with B's key). */
function fromB(
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
const enc = encodeURIComponent;

async function createRoom(body: Record<string, unknown> = {}): Promise<string> {
  const res = await a.request('POST', '/_matrix/client/v3/createRoom', {
    token: alice.accessToken,
    body: { preset: 'public_chat', ...body },
  });
  return res.body.room_id as string;
}

/** make_join → sign with B's key → send_join; returns the join's id and the send_join answer. */
async function joinAsBob(roomId: string): Promise<{ eventId: string; answer: Json }> {
  const template = await fromB('GET', `/_matrix/federation/v1/make_join/${enc(roomId)}/${enc(bob)}`, {
    query: { ver: ALL_VERSIONS },
  });
  const version = getRoomVersion(template.room_version as string)!;
  const signed = hashAndSignEvent(
    { ...(template.event as PduJson), origin_server_ts: Date.now() },
    version,
    b.serverName,
    b.signingKey,
  );
  const eventId = version.eventIdFormat === 'v1' ? signed.event_id! : computeEventId(signed, version);
  const answer = await fromB('PUT', `/_matrix/federation/v2/send_join/${enc(roomId)}/${enc(eventId)}`, {
    body: signed,
  });
  return { eventId, answer };
}

void t.test('B joins A’s room (v12) and talks; A’s user sees it all in /sync', async (t) => {
  const roomId = await createRoom();
  const createId = (await a.kernel.container.cradle.roomsHeads.get(roomId))!.state.get(
    'm.room.create\u0000',
  )!.eventId;
  t.equal(
    (await failure(fromB('GET', `/_matrix/federation/v1/event/${enc(createId)}`))).status,
    403,
    'B is not in the room yet',
  );

  const { eventId, answer } = await joinAsBob(roomId);
  t.equal(answer.origin, a.serverName);
  t.equal(answer.members_omitted, false);
  t.same(answer.servers_in_room, [a.serverName, b.serverName].sort());
  t.equal(answer.event.state_key, bob);
  t.ok(answer.event.signatures[b.serverName], 'the join carries B’s signature');
  const stateTypes = (answer.state as PduJson[]).map((e) => `${e.type}|${e.state_key}`);
  t.ok(stateTypes.includes('m.room.create|'), 'the state holds the create event');
  t.ok(stateTypes.includes(`m.room.member|${alice.userId}`));
  t.notOk(stateTypes.includes(`m.room.member|${bob}`), 'the state is the state before the join');
  t.ok(
    (answer.auth_chain as PduJson[]).some((e) => e.type === 'm.room.member' && e.state_key === alice.userId),
    'the auth chain (v12: the create event is never an auth event)',
  );

  const hello = await remoteEvent(a, b, roomId, {
    sender: bob,
    type: 'm.room.message',
    content: { msgtype: 'm.text', body: 'hi from B' },
  });
  t.same(
    await fromB('PUT', '/_matrix/federation/v1/send/after-join', {
      body: { origin: b.serverName, origin_server_ts: Date.now(), pdus: [hello.pdu] },
    }),
    { pdus: { [hello.eventId]: {} } },
  );
  const sync = await a.request('GET', '/_matrix/client/v3/sync', { token: alice.accessToken });
  const events = sync.body.rooms.join[roomId].timeline.events as Json[];
  t.ok(
    events.some((e) => e.event_id === eventId && e.content.membership === 'join'),
    'bob’s join in /sync',
  );
  t.ok(
    events.some((e) => e.event_id === hello.eventId && e.content.body === 'hi from B'),
    'and his message',
  );

  // Reads, now that B is in the room.
  const got = await fromB('GET', `/_matrix/federation/v1/event/${enc(eventId)}`);
  t.equal(got.origin, a.serverName);
  t.same(got.pdus, [answer.event]);
  const ids = await fromB('GET', `/_matrix/federation/v1/state_ids/${enc(roomId)}`, {
    query: { event_id: hello.eventId },
  });
  t.ok(ids.pdu_ids.includes(eventId), 'the state before the message holds bob’s join');
  const aliceJoin = (await a.kernel.container.cradle.roomsHeads.get(roomId))!.state.get(
    `m.room.member\u0000${alice.userId}`,
  )!.eventId;
  t.ok(ids.auth_chain_ids.includes(aliceJoin));
  const full = await fromB('GET', `/_matrix/federation/v1/state/${enc(roomId)}`, {
    query: { event_id: hello.eventId },
  });
  t.equal(full.pdus.length, ids.pdu_ids.length);
  t.equal(full.auth_chain.length, ids.auth_chain_ids.length);
  t.equal(
    (await failure(fromB('GET', `/_matrix/federation/v1/state_ids/${enc(roomId)}`))).errcode,
    'M_MISSING_PARAM',
  );
  t.equal(
    (
      await failure(
        fromB('GET', `/_matrix/federation/v1/state_ids/${enc(roomId)}`, { query: { event_id: '$nope' } }),
      )
    ).status,
    404,
  );
  t.equal((await failure(fromB('GET', `/_matrix/federation/v1/event/$nope`))).status, 404);
});

void t.test('B joins an older room version (v10)', async (t) => {
  const roomId = await createRoom({ room_version: '10' });
  const { eventId, answer } = await joinAsBob(roomId);
  t.equal(answer.event.state_key, bob);
  const members = await a.kernel.container.cradle.roomsApi.members(roomId);
  t.ok(members.includes(bob));
  t.ok(await a.kernel.container.cradle.roomsEventStore.getEvent(eventId));
});

void t.test('make_join and send_join errors', async (t) => {
  const roomId = await createRoom();
  const mj = (user: string, query?: Record<string, string | string[]>): Promise<Json> =>
    fromB('GET', `/_matrix/federation/v1/make_join/${enc(roomId)}/${enc(user)}`, { query });
  const incompatible = await failure(mj(bob, { ver: '1' }));
  t.equal(incompatible.status, 400);
  t.equal(incompatible.errcode, 'M_INCOMPATIBLE_ROOM_VERSION');
  t.match(incompatible.body, { room_version: '12' });
  t.equal((await failure(mj(bob))).errcode, 'M_INCOMPATIBLE_ROOM_VERSION', 'no ver: version 1 only');
  t.equal((await failure(mj(`@carol:${a.serverName}`, { ver: '12' }))).status, 403, 'not B’s user');
  t.equal(
    (
      await failure(
        fromB('GET', `/_matrix/federation/v1/make_join/${enc('!nope:x')}/${enc(bob)}`, {
          query: { ver: '12' },
        }),
      )
    ).status,
    404,
  );

  // Invite-only: the template is refused.
  const closed = await createRoom({ preset: 'private_chat' });
  const refused = await failure(
    fromB('GET', `/_matrix/federation/v1/make_join/${enc(closed)}/${enc(bob)}`, { query: { ver: '12' } }),
  );
  t.equal(refused.status, 403);

  // send_join: a wrong event id, and something that is not a join.
  const template = await mj(bob, { ver: '12' });
  const version = getRoomVersion('12')!;
  const signed = hashAndSignEvent(template.event as PduJson, version, b.serverName, b.signingKey);
  const wrongId = await failure(
    fromB('PUT', `/_matrix/federation/v2/send_join/${enc(roomId)}/${enc('$wrong')}`, { body: signed }),
  );
  t.equal(wrongId.status, 400);
  const leave = hashAndSignEvent(
    { ...(template.event as PduJson), content: { membership: 'leave' } },
    version,
    b.serverName,
    b.signingKey,
  );
  const notJoin = await failure(
    fromB('PUT', `/_matrix/federation/v2/send_join/${enc(roomId)}/${enc(computeEventId(leave, version))}`, {
      body: leave,
    }),
  );
  t.equal(notJoin.errcode, 'M_BAD_JSON');
  const garbage = await failure(
    fromB('PUT', `/_matrix/federation/v2/send_join/${enc(roomId)}/${enc('$x')}`, { body: [1, 2] }),
  );
  t.equal(garbage.status, 400);
});
