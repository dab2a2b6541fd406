/**
 * Restricted joins over federation, resident side, between two Axon servers over TLS (the test plays B's
 * joining side, as inbound-join.test.ts does): B's user, joined to a room of the allow list, gets a make_join
 * template naming A's user in `join_authorised_via_users_server`, and A signs the join on send_join; the
 * spec's errors when the user meets no condition, when A holds none of the allowed rooms, when none of A's
 * users may invite, and a join naming A's user without meeting the conditions.
 */
import t from 'tap';
import { computeEventId } from '../../../../core/protocol/event-id.js';
import type { PduJson } from '../../../../core/protocol/pdu.js';
import { getRoomVersion } from '../../../../core/protocol/room-versions.js';
import { hashAndSignEvent } from '../../../../core/protocol/signing.js';
import { makeUser, openRegistrationConfig } from '../../../helpers/fixtures.js';
import { failure, makeTestCa, startFederatedServer } from './test-federation.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const enc = encodeURIComponent;
const ca = await makeTestCa(t);
const a = await startFederatedServer(t, ca, { ...openRegistrationConfig });
const b = await startFederatedServer(t, ca);
const alice = await makeUser(a, { localpart: 'alice' });
const bob = `@bob:${b.serverName}`;
const carol = `@carol:${b.serverName}`;

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
async function createRoom(body: Record<string, unknown>): Promise<string> {
  const res = await a.request('POST', '/_matrix/client/v3/createRoom', { token: alice.accessToken, body });
  if (res.status !== 200) throw new Error(JSON.stringify(res.body));
  return res.body.room_id as string;
}
function restricted(version: string, allowed: string, extra: Record<string, unknown> = {}): Promise<string> {
  return createRoom({
    preset: 'private_chat',
    room_version: version,
    initial_state: [
      {
        type: 'm.room.join_rules',
        state_key: '',
        content: { join_rule: 'restricted', allow: [{ type: 'm.room_membership', room_id: allowed }] },
      },
    ],
    ...extra,
  });
}
const makeJoin = (roomId: string, user: string): Promise<Json> =>
  fromB('GET', `/_matrix/federation/v1/make_join/${enc(roomId)}/${enc(user)}`, {
    query: { ver: ['10', '12'] },
  });

/** Signs `event` with B's key and sends it with send_join. */
async function sendJoin(
  roomId: string,
  event: PduJson,
  version: string,
): Promise<{ eventId: string; answer: Json }> {
  const v = getRoomVersion(version)!;
  const signed = hashAndSignEvent({ ...event, origin_server_ts: Date.now() }, v, b.serverName, b.signingKey);
  const eventId = computeEventId(signed, v);
  const answer = await fromB('PUT', `/_matrix/federation/v2/send_join/${enc(roomId)}/${enc(eventId)}`, {
    body: signed,
  });
  return { eventId, answer };
}

const space = await createRoom({ preset: 'public_chat', room_version: '10' });
// Bob joins the allowed room (an ordinary public join).
const spaceTemplate = await makeJoin(space, bob);
await sendJoin(space, spaceTemplate.event as PduJson, '10');

for (const version of ['10', '12']) {
  void t.test(`v${version}: a member of the allowed room joins, A authorises and signs`, async (t) => {
    const roomId = await restricted(version, space);
    const template = await makeJoin(roomId, bob);
    t.equal(template.room_version, version);
    t.equal(template.event.content.join_authorised_via_users_server, alice.userId, 'alice vouches');
    const { eventId, answer } = await sendJoin(roomId, template.event as PduJson, version);
    t.ok(answer.event.signatures[a.serverName], 'the join comes back with A’s signature');
    t.ok(answer.event.signatures[b.serverName], 'and B’s');
    t.ok((await a.kernel.container.cradle.roomsApi.members(roomId)).includes(bob), 'bob joined');
    const stored = await a.kernel.container.cradle.roomsEventStore.getEvent(eventId);
    t.equal(stored?.rejectedReason, null);
  });
}

void t.test('the spec’s errors', async (t) => {
  const roomId = await restricted('10', space);
  const forbidden = await failure(makeJoin(roomId, carol));
  t.equal(forbidden.status, 403, 'carol is in no allowed room');
  t.equal(forbidden.errcode, 'M_FORBIDDEN');

  const elsewhere = await restricted('10', `!unknown:${b.serverName}`);
  const cannotTell = await failure(makeJoin(elsewhere, bob));
  t.equal(cannotTell.status, 400);
  t.equal(cannotTell.errcode, 'M_UNABLE_TO_AUTHORISE_JOIN');

  const nobody = await restricted('10', space, { power_level_content_override: { invite: 101 } });
  const cannotGrant = await failure(makeJoin(nobody, bob));
  t.equal(cannotGrant.status, 400);
  t.equal(cannotGrant.errcode, 'M_UNABLE_TO_GRANT_JOIN');

  // Carol copies the shape of bob's template, naming alice, without meeting the conditions.
  const template = await makeJoin(roomId, bob);
  const forged = {
    ...(template.event as PduJson),
    sender: carol,
    state_key: carol,
  };
  const refused = await failure(sendJoin(roomId, forged, '10'));
  t.equal(refused.status, 403);
  t.notOk((await a.kernel.container.cradle.roomsApi.members(roomId)).includes(carol));
});
