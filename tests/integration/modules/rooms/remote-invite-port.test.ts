/**
 * Inviting a remote user, the rooms side, with a scripted `FederationInvitesPort` in place of the federation
 * module: the invite is built and checked, signed "remotely" outside the room lock (the room's other sends
 * go on meanwhile), then authorised again against the head it is stored on; a changed event is a 502, a
 * remote refusal keeps its status, a ban that lands meanwhile makes it a 403.
 */
import t from 'tap';
import { MatrixError } from '../../../../core/errors.js';
import type { PduJson } from '../../../../core/protocol/pdu.js';
import type { FederationInvitesPort } from '../../../../modules/rooms/api.js';
import { startRoomsServer } from './rooms-test-server.js';

const server = await startRoomsServer(t);
const alice = await server.user('alice');
const cradle = server.kernel.container.cradle;
const remote = '@rita:remote.example';

/** What the scripted remote does with each invite. */
let onInvite: (pdu: PduJson) => Promise<PduJson>;
const port: FederationInvitesPort = {
  sendInvite: ({ pdu }) => onInvite(pdu),
  knock: () => Promise.reject(new MatrixError(404, 'M_NOT_FOUND', 'not scripted')),
  leave: () => Promise.reject(new MatrixError(404, 'M_NOT_FOUND', 'not scripted')),
};
cradle.roomsHooks.setFederationInvites(port);
const signedByRemote = (pdu: PduJson): PduJson => ({
  ...pdu,
  signatures: { ...pdu.signatures, 'remote.example': { 'ed25519:x': 'c2lnbmF0dXJl' } },
});
const invite = (roomId: string) =>
  server.call(alice, 'POST', server.room(roomId, '/invite'), { user_id: remote });

void t.test('the room goes on while the invitee’s server signs; the invite is stored after', async (t) => {
  const roomId = await server.createRoom(alice);
  let during = '';
  onInvite = async (pdu) => {
    during = await server.send(alice, roomId, 'sent while the invite is away');
    return signedByRemote(pdu);
  };
  t.equal((await invite(roomId)).status, 200);
  const head = (await cradle.roomsHeads.get(roomId))!;
  const stored = head.state.get(`m.room.member\u0000${remote}`)!;
  t.equal(stored.pdu.content['membership'], 'invite');
  t.ok(stored.pdu.signatures['remote.example'], 'stored with the remote signature');
  t.notOk((stored.pdu.prev_events as string[]).includes(during), 'built before the message');
  t.same([...head.extremities].sort(), [during, stored.eventId].sort(), 'two forward extremities');
  const next = await server.send(alice, roomId, 'after');
  const merged = (await cradle.roomsEventStore.getEvent(next))!.pdu.prev_events as string[];
  t.same([...merged].sort(), [during, stored.eventId].sort(), 'the next event joins both');
});

void t.test('a changed event, a remote refusal, a ban meanwhile', async (t) => {
  const roomId = await server.createRoom(alice);
  onInvite = async (pdu) => signedByRemote({ ...pdu, content: { ...pdu.content, membership: 'join' } });
  const changed = await invite(roomId);
  t.equal(changed.status, 502);

  onInvite = () => Promise.reject(new MatrixError(403, 'M_FORBIDDEN', 'not from you'));
  const refused = await invite(roomId);
  t.equal(refused.status, 403);
  t.equal(refused.body.error, 'not from you');

  onInvite = async (pdu) => {
    const ban = await server.call(alice, 'POST', server.room(roomId, '/ban'), { user_id: remote });
    t.equal(ban.status, 200);
    return signedByRemote(pdu);
  };
  const banned = await invite(roomId);
  t.equal(banned.status, 403, 'authorised again on the head it would be stored on');
  const member = (await cradle.roomsHeads.get(roomId))!.state.get(`m.room.member\u0000${remote}`)!;
  t.equal(member.pdu.content['membership'], 'ban');
});
