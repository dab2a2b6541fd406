/**
 * Invites across two Axon servers over TLS, on each engine: A's user invites B's user (A builds the invite,
 * B checks and signs it, A stores it), B's user sees it in /sync with its invite_state and rejects it
 * (make_leave / send_leave against A). Then the inbound endpoint's refusals, the test playing A: an
 * unsupported room version, a forged signature, an invitee of another server, a malformed body.
 */
import t from 'tap';
import { buildEvent } from '../../../../core/protocol/event-builder.js';
import { generateSigningKey } from '../../../../core/protocol/signing-key.js';
import { getRoomVersion } from '../../../../core/protocol/room-versions.js';
import { makeUser, openRegistrationConfig } from '../../../helpers/fixtures.js';
import { pgUnavailableReason } from '../../../helpers/with-all-databases.js';
import { failure, makeTestCa, startFederatedServer } from './test-federation.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const enc = encodeURIComponent;
const ca = await makeTestCa(t);

const pgSkip = (await pgUnavailableReason()) ?? false;
for (const engine of ['sqlite', 'pg'] as const) {
  const skip = engine === 'pg' ? pgSkip : false;
  void t.test(`${engine}: invite a remote user, see it in /sync, reject it`, { skip }, async (t) => {
    const a = await startFederatedServer(t, ca, { ...openRegistrationConfig }, 'localhost', { engine });
    const b = await startFederatedServer(t, ca, { ...openRegistrationConfig }, 'localhost', { engine });
    const alice = await makeUser(a, { localpart: 'alice' });
    const bob = await makeUser(b, { localpart: 'bob' });

    const created = await a.request('POST', '/_matrix/client/v3/createRoom', {
      token: alice.accessToken,
      body: { preset: 'private_chat', name: 'Secret plans', topic: 'shh' },
    });
    const roomId = created.body.room_id as string;

    // Bob's sync before the invite, then a long poll the invite must wake.
    const first = await b.request('GET', '/_matrix/client/v3/sync', { token: bob.accessToken });
    const since = first.body.next_batch as string;
    const woken = b.request('GET', `/_matrix/client/v3/sync?since=${enc(since)}&timeout=20000`, {
      token: bob.accessToken,
    });

    const invited = await a.request('POST', `/_matrix/client/v3/rooms/${enc(roomId)}/invite`, {
      token: alice.accessToken,
      body: { user_id: bob.userId, reason: 'join us' },
    });
    t.equal(invited.status, 200, JSON.stringify(invited.body));

    // A: bob is invited, and the stored invite carries B's signature.
    const cradleA = a.kernel.container.cradle;
    t.same(await cradleA.roomsApi.members(roomId, 'invite'), [bob.userId]);
    const inviteId = (await cradleA.roomsHeads.get(roomId))!.state.get(
      `m.room.member\u0000${bob.userId}`,
    )!.eventId;
    const stored = await cradleA.roomsEventStore.getEvent(inviteId);
    t.ok(stored?.pdu.signatures[b.serverName], 'A stored the invite with B’s signature');
    t.ok(stored?.pdu.signatures[a.serverName], 'and its own');

    // B: the long poll wakes with the invite and its stripped state.
    const sync = (await woken).body;
    const invite = sync.rooms.invite[roomId];
    t.ok(invite, 'the invite is in rooms.invite');
    const state = invite.invite_state.events as Json[];
    const byType = new Map(state.map((e) => [e.type, e]));
    t.equal(byType.get('m.room.name')?.content.name, 'Secret plans');
    t.equal(byType.get('m.room.topic')?.content.topic, 'shh');
    t.ok(byType.get('m.room.create'), 'the create event');
    t.equal(byType.get('m.room.join_rules')?.content.join_rule, 'invite');
    const member = state.find((e) => e.type === 'm.room.member');
    t.match(member, { sender: alice.userId, state_key: bob.userId, content: { membership: 'invite' } });
    t.notOk(byType.get('m.room.create')?.signatures, 'stripped: no signatures');

    const initial = await b.request('GET', '/_matrix/client/v3/sync', { token: bob.accessToken });
    t.ok(initial.body.rooms.invite[roomId], 'an initial sync shows it too');
    const joined = await b.request('GET', '/_matrix/client/v3/joined_rooms', { token: bob.accessToken });
    t.same(joined.body.joined_rooms, [], 'not a joined room');

    // Bob rejects: make_leave / send_leave against A.
    const rejected = await b.request('POST', `/_matrix/client/v3/rooms/${enc(roomId)}/leave`, {
      token: bob.accessToken,
      body: { reason: 'no thanks' },
    });
    t.equal(rejected.status, 200, JSON.stringify(rejected.body));
    t.same(await cradleA.roomsApi.members(roomId, 'invite'), [], 'A: no longer invited');
    t.same(await cradleA.roomsApi.members(roomId, 'leave'), [bob.userId], 'A: bob left');
    const after = await b.request('GET', `/_matrix/client/v3/sync?since=${enc(initial.body.next_batch)}`, {
      token: bob.accessToken,
    });
    t.equal(after.status, 200);
    const left = after.body.rooms.leave[roomId]?.timeline.events as Json[] | undefined;
    t.match(left, [{ type: 'm.room.member', state_key: bob.userId, content: { membership: 'leave' } }]);
    t.notOk(after.body.rooms?.invite?.[roomId], 'the invite is gone from B’s sync');
    const again = await b.request('GET', '/_matrix/client/v3/sync', { token: bob.accessToken });
    t.notOk(again.body.rooms?.invite?.[roomId], 'also from an initial sync');
  });
}

void t.test('the invitee’s server refuses bad invites', async (t) => {
  const a = await startFederatedServer(t, ca, { ...openRegistrationConfig });
  const b = await startFederatedServer(t, ca, { ...openRegistrationConfig });
  const alice = await makeUser(a, { localpart: 'alice' });
  const bob = await makeUser(b, { localpart: 'bob' });
  const created = await a.request('POST', '/_matrix/client/v3/createRoom', {
    token: alice.accessToken,
    body: { preset: 'private_chat', room_version: '10' },
  });
  const roomId = created.body.room_id as string;
  const head = (await a.kernel.container.cradle.roomsHeads.get(roomId))!;
  const version = getRoomVersion('10')!;
  const createPdu = head.state.get('m.room.create\u0000')!.pdu;
  const inviteOf = (invitee: string, key = a.signingKey) =>
    buildEvent({
      roomVersion: version,
      serverName: a.serverName,
      key,
      partial: {
        room_id: roomId,
        sender: alice.userId,
        type: 'm.room.member',
        state_key: invitee,
        content: { membership: 'invite' },
        prev_events: head.extremities,
        auth_events: [...head.state.values()]
          .filter((e) => ['m.room.create', 'm.room.power_levels', 'm.room.join_rules'].includes(e.pdu.type))
          .map((e) => e.eventId),
        depth: head.maxDepth + 1,
      },
    });
  const put = (eventId: string, body: unknown) =>
    a.kernel.container.cradle.federationClient.request({
      method: 'PUT',
      destination: b.serverName,
      path: `/_matrix/federation/v2/invite/${enc(roomId)}/${enc(eventId)}`,
      body,
    }) as Promise<Json>;

  const good = inviteOf(bob.userId);
  const unsupported = await failure(
    put(good.eventId, { room_version: 'nonsense', event: good.pdu, invite_room_state: [createPdu] }),
  );
  t.equal(unsupported.status, 400);
  t.equal(unsupported.errcode, 'M_INCOMPATIBLE_ROOM_VERSION');

  const forged = inviteOf(bob.userId, { ...generateSigningKey(), keyId: a.signingKey.keyId });
  const badSig = await failure(
    put(forged.eventId, { room_version: '10', event: forged.pdu, invite_room_state: [createPdu] }),
  );
  t.equal(badSig.status, 403, 'a forged signature');

  const notOurs = inviteOf(`@carol:${a.serverName}`);
  t.equal(
    (await failure(put(notOurs.eventId, { room_version: '10', event: notOurs.pdu }))).status,
    400,
    'the invitee is not B’s (400, as Synapse)',
  );
  t.equal((await failure(put(good.eventId, { event: good.pdu }))).errcode, 'M_MISSING_PARAM');
  t.equal(
    (await failure(put('$other', { room_version: '10', event: good.pdu }))).errcode,
    'M_BAD_JSON',
    'the event id in the path is another',
  );
  t.equal(
    (await failure(put(good.eventId, { room_version: '10', event: good.pdu, invite_room_state: 'x' })))
      .errcode,
    'M_BAD_JSON',
  );

  // Nothing of the above reached bob.
  const sync = await b.request('GET', '/_matrix/client/v3/sync', { token: bob.accessToken });
  t.notOk(sync.body.rooms?.invite?.[roomId]);

  // The good one is accepted and answered with B's signature added.
  const answer = await put(good.eventId, {
    room_version: '10',
    event: good.pdu,
    invite_room_state: [createPdu],
  });
  t.ok(answer.event.signatures[b.serverName], 'signed by B');
  t.same(answer.event.signatures[a.serverName], good.pdu.signatures[a.serverName], 'A’s signature kept');
  const synced = await b.request('GET', '/_matrix/client/v3/sync', { token: bob.accessToken });
  t.ok(synced.body.rooms.invite[roomId], 'bob is invited');

  // A goes away: bob can still reject the invite, locally (as Synapse).
  await a.stop();
  const rejected = await b.request('POST', `/_matrix/client/v3/rooms/${enc(roomId)}/leave`, {
    token: bob.accessToken,
    body: {},
  });
  t.equal(rejected.status, 200, JSON.stringify(rejected.body));
  const after = await b.request('GET', `/_matrix/client/v3/sync?since=${enc(synced.body.next_batch)}`, {
    token: bob.accessToken,
  });
  t.notOk(after.body.rooms?.invite?.[roomId], 'the invite is gone');
  t.match(after.body.rooms.leave[roomId]?.timeline.events, [{ content: { membership: 'leave' } }]);
});

void t.test(
  'an invitee’s server answering in Synapse’s shape (its own `unsigned`) is accepted',
  async (t) => {
    const a = await startFederatedServer(t, ca, { ...openRegistrationConfig });
    const b = await startFederatedServer(t, ca, { ...openRegistrationConfig });
    const alice = await makeUser(a, { localpart: 'alice' });
    const bob = await makeUser(b, { localpart: 'bob' });
    const created = await a.request('POST', '/_matrix/client/v3/createRoom', {
      token: alice.accessToken,
      body: { preset: 'private_chat', room_version: '10' },
    });
    const roomId = created.body.room_id as string;

    // Synapse (1.67 and today) answers /v2/invite with the event plus `unsigned.invite_room_state` and
    // `unsigned.age`, which are not signed: B's answer is given that shape on its way into A.
    const client = a.kernel.container.cradle.federationClient;
    const request = client.request.bind(client);
    client.request = async (req) => {
      const answer = (await request(req)) as Json;
      if (req.path.startsWith('/_matrix/federation/v2/invite/')) {
        answer.event.unsigned = { age: 3, invite_room_state: (req.body as Json).invite_room_state };
      }
      return answer;
    };
    t.teardown(() => {
      client.request = request;
    });

    const invited = await a.request('POST', `/_matrix/client/v3/rooms/${enc(roomId)}/invite`, {
      token: alice.accessToken,
      body: { user_id: bob.userId },
    });
    t.equal(invited.status, 200, JSON.stringify(invited.body));
    t.same(await a.kernel.container.cradle.roomsApi.members(roomId, 'invite'), [bob.userId]);
    const inviteId = (await a.kernel.container.cradle.roomsHeads.get(roomId))!.state.get(
      `m.room.member\u0000${bob.userId}`,
    )!.eventId;
    const stored = await a.kernel.container.cradle.roomsEventStore.getEvent(inviteId);
    t.ok(stored?.pdu.signatures[b.serverName], 'stored with B’s signature');
    t.notOk((stored?.pdu.unsigned as Json)?.invite_room_state, 'B’s `unsigned` is not taken over');

    // A changed signed field is still refused.
    client.request = async (req) => {
      const answer = (await request(req)) as Json;
      if (req.path.startsWith('/_matrix/federation/v2/invite/')) answer.event.origin_server_ts += 1;
      return answer;
    };
    const carol = await makeUser(b, { localpart: 'carol' });
    const refused = await a.request('POST', `/_matrix/client/v3/rooms/${enc(roomId)}/invite`, {
      token: alice.accessToken,
      body: { user_id: carol.userId },
    });
    t.equal(refused.status, 502, JSON.stringify(refused.body));
  },
);
