/**
 * The spam checkers on federation: an invite B's invite-guard refuses reaches A's user as that refusal (403),
 * and a PDU A's keyword-filter calls spam is soft-failed on receipt — never in A's user's /sync.
 */
import t from 'tap';
import { computeEventId } from '../../../../core/protocol/event-id.js';
import type { PduJson } from '../../../../core/protocol/pdu.js';
import { getRoomVersion } from '../../../../core/protocol/room-versions.js';
import { hashAndSignEvent } from '../../../../core/protocol/signing.js';
import { makeUser, openRegistrationConfig } from '../../../helpers/fixtures.js';
import { remoteEvent } from './remote-events.js';
import { makeTestCa, startFederatedServer } from './test-federation.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const enc = encodeURIComponent;
const ca = await makeTestCa(t);
const a = await startFederatedServer(t, ca, {
  ...openRegistrationConfig,
  plugins: [{ module: './spam-checkers/keyword-filter', config: { blocked_words: ['casino'] } }],
});
const b = await startFederatedServer(t, ca, {
  ...openRegistrationConfig,
  plugins: [{ module: './spam-checkers/invite-guard', config: { blocked_servers: ['localhost:*'] } }],
});
const alice = await makeUser(a, { localpart: 'alice' });
const bob = await makeUser(b, { localpart: 'bob' });

async function createRoom(preset: string): Promise<string> {
  const res = await a.request('POST', '/_matrix/client/v3/createRoom', {
    token: alice.accessToken,
    body: { preset },
  });
  return res.body.room_id as string;
}

void t.test('B’s spam checker refuses the invite: A’s user gets its 403', async (t) => {
  const roomId = await createRoom('private_chat');
  const res = await a.request('POST', `/_matrix/client/v3/rooms/${enc(roomId)}/invite`, {
    token: alice.accessToken,
    body: { user_id: bob.userId },
  });
  t.equal(res.status, 403);
  t.equal(res.body.errcode, 'M_FORBIDDEN');
  t.same(await a.kernel.container.cradle.roomsApi.members(roomId, 'invite'), [], 'nothing stored at A');
  const sync = await b.request('GET', '/_matrix/client/v3/sync', { token: bob.accessToken });
  t.notOk(sync.body.rooms?.invite?.[roomId], 'nothing reached bob');
});

void t.test('A’s spam checker soft-fails a received PDU', async (t) => {
  const roomId = await createRoom('public_chat');
  const client = b.kernel.container.cradle.federationClient;
  const template = (await client.request({
    method: 'GET',
    destination: a.serverName,
    path: `/_matrix/federation/v1/make_join/${enc(roomId)}/${enc(bob.userId)}`,
    query: { ver: '12' },
  })) as Json;
  const version = getRoomVersion('12')!;
  const join = hashAndSignEvent(template.event as PduJson, version, b.serverName, b.signingKey);
  await client.request({
    method: 'PUT',
    destination: a.serverName,
    path: `/_matrix/federation/v2/send_join/${enc(roomId)}/${enc(computeEventId(join, version))}`,
    body: join,
  });
  const spam = await remoteEvent(a, b, roomId, {
    sender: bob.userId,
    type: 'm.room.message',
    content: { msgtype: 'm.text', body: 'come to the casino' },
  });
  const answer = (await client.request({
    method: 'PUT',
    destination: a.serverName,
    path: '/_matrix/federation/v1/send/spam-1',
    body: { origin: b.serverName, origin_server_ts: Date.now(), pdus: [spam.pdu] },
  })) as Json;
  t.same(answer, { pdus: { [spam.eventId]: {} } }, 'accepted for the sender, as Synapse answers');
  t.match(await a.kernel.container.cradle.roomsSoftFailedStore.get(spam.eventId), { reason: /spam/ });
  t.equal(await a.kernel.container.cradle.roomsEventStore.getEvent(spam.eventId), undefined);
  const sync = await a.request('GET', '/_matrix/client/v3/sync', { token: alice.accessToken });
  const events = sync.body.rooms.join[roomId].timeline.events as Json[];
  t.notOk(
    events.some((e) => e.event_id === spam.eventId),
    'alice never sees it',
  );
});
