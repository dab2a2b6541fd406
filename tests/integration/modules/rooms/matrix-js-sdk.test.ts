/**
 * matrix-js-sdk as a real client: create a room, invite, join, send, paginate and redact through its own
 * request code (no sync loop yet: pagination uses createMessagesRequest).
 */
import t from 'tap';
import { createClient, Direction, MsgType, type MatrixClient } from 'matrix-js-sdk';
import { startRoomsServer, type RoomsTestServer, type TestUser } from './rooms-test-server.js';

function clientFor(server: RoomsTestServer, user: TestUser): MatrixClient {
  return createClient({
    baseUrl: server.baseUrl,
    accessToken: user.token,
    userId: user.userId,
    deviceId: user.deviceId,
  });
}

void t.test('matrix-js-sdk: createRoom, invite, join, send, paginate, redact', async (t) => {
  const server = await startRoomsServer(t);
  const alice = clientFor(server, await server.user('alice'));
  const bobUser = await server.user('bob');
  const bob = clientFor(server, bobUser);

  const { room_id: roomId } = await alice.createRoom({ name: 'sdk room' });
  await alice.invite(roomId, bobUser.userId);
  await bob.joinRoom(roomId);
  t.ok((await bob.getJoinedRooms()).joined_rooms.includes(roomId));

  const sent: string[] = [];
  for (let i = 0; i < 5; i++) sent.push((await alice.sendTextMessage(roomId, `hello ${i}`)).event_id);
  const reply = await bob.sendMessage(roomId, { msgtype: MsgType.Text, body: 'hi alice' });

  const page1 = await bob.createMessagesRequest(roomId, null, 3, Direction.Backward);
  t.same(
    page1.chunk.map((e) => e.event_id),
    [reply.event_id, sent[4], sent[3]],
  );
  const page2 = await bob.createMessagesRequest(roomId, page1.end ?? null, 3, Direction.Backward);
  t.same(
    page2.chunk.map((e) => e.event_id),
    [sent[2], sent[1], sent[0]],
  );

  const redaction = await alice.redactEvent(roomId, sent[0]!, undefined, { reason: 'oops' });
  t.match(redaction.event_id, /^\$/);
  const redacted = await bob.fetchRoomEvent(roomId, sent[0]!);
  t.same(redacted.content, {});
  t.equal(
    (redacted.unsigned as Record<string, { event_id: string }>)['redacted_because']?.event_id,
    redaction.event_id,
  );

  const members = (await bob.members(roomId)) as unknown as { chunk: { state_key: string }[] };
  t.same(members.chunk.map((e) => e.state_key).sort(), [bobUser.userId, alice.getUserId()].sort());
  alice.stopClient();
  bob.stopClient();
});
