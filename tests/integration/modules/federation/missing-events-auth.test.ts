/**
 * A PDU whose prev_events A has but one of whose auth events it lacks: A fetches the event's auth chain
 * from the sending server with /event_auth, checks it, stores what it lacked as outliers, and accepts the
 * PDU. Two real Axon servers over TLS; A's room is mirrored into B's database (B has no remote join of its
 * own). A runs on both engines.
 */
import t from 'tap';
import { buildEvent } from '../../../../core/protocol/event-builder.js';
import { makeUser, openRegistrationConfig } from '../../../helpers/fixtures.js';
import { withAllDatabasesConcurrently } from '../../../helpers/with-all-databases.js';
import { enc, mirrorRoom, residentPeer } from './resident-peer.js';
import { makeTestCa, startFederatedServer } from './test-federation.js';

const ca = await makeTestCa(t);

await withAllDatabasesConcurrently(t, async (t, database) => {
  const a = await startFederatedServer(t, ca, { ...openRegistrationConfig, database });
  const b = await startFederatedServer(t, ca, { ...openRegistrationConfig });
  const alice = await makeUser(a, { localpart: 'alice' });
  const bob = await makeUser(b, { localpart: 'bob' });
  const peer = residentPeer(a, b);
  const roomId = (
    await a.request('POST', '/_matrix/client/v3/createRoom', {
      token: alice.accessToken,
      body: { preset: 'public_chat' },
    })
  ).body.room_id as string;
  await peer.join(roomId, bob.userId);
  await mirrorRoom(a, b, roomId);

  // On B only: bob renames himself (A never hears of it).
  const rename = await b.request(
    'PUT',
    `/_matrix/client/v3/rooms/${enc(roomId)}/state/m.room.member/${enc(bob.userId)}`,
    { token: bob.accessToken, body: { membership: 'join', displayname: 'Bob on B' } },
  );
  const renameId = rename.body.event_id as string;

  // A message of bob's built on A's head (its prev_events A has) citing the rename as his member event.
  const aHead = (await a.kernel.container.cradle.roomsHeads.get(roomId))!;
  const built = buildEvent({
    roomVersion: aHead.version,
    serverName: b.serverName,
    key: b.signingKey,
    partial: {
      room_id: roomId,
      sender: bob.userId,
      type: 'm.room.message',
      content: { msgtype: 'm.text', body: 'auth from B' },
      prev_events: [...aHead.extremities],
      auth_events: [aHead.state.get('m.room.power_levels\u0000')!.eventId, renameId],
      depth: aHead.maxDepth + 1,
    },
  });
  // B holds it too (so it can answer /event_auth for it).
  const atB = await b.kernel.container.cradle.roomsFederationApi.receivePdu({
    pdu: built.pdu,
    keys: b.kernel.container.cradle.federationTransactions.keys,
  });
  t.equal(atB.status, 'persisted', 'B accepts the message');

  const answer = await peer.ask('PUT', '/_matrix/federation/v1/send/auth-gap', {
    body: { origin: b.serverName, origin_server_ts: Date.now(), pdus: [built.pdu] },
  });
  t.same(answer.pdus[built.eventId], {}, 'A accepts it');
  const stored = await a.kernel.container.cradle.roomsEventStore.getEvent(built.eventId);
  t.equal(stored?.rejectedReason, null, 'stored, not rejected');
  const row = (await a.kernel.container.cradle.db('rooms_events').where({ event_id: renameId }).first()) as
    { outlier: unknown } | undefined;
  t.ok(row && (row.outlier === true || row.outlier === 1), 'the missing auth event came as an outlier');
  const messages = await a.request('GET', `/_matrix/client/v3/rooms/${enc(roomId)}/messages?dir=b&limit=10`, {
    token: alice.accessToken,
  });
  t.equal(messages.body.chunk[0].content.body, 'auth from B', 'in the timeline');
  t.notOk(
    (messages.body.chunk as { event_id: string }[]).some((e) => e.event_id === renameId),
    'the outlier is not',
  );
});
