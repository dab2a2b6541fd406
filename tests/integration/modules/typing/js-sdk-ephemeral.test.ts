/**
 * matrix-js-sdk as a real client: its sync loop sees another user's typing, read receipt and presence in
 * real time (each arrives through an open long-poll, not a fresh initial sync).
 */
import t from 'tap';
import { RoomEvent, RoomMemberEvent, UserEvent, type MatrixEvent } from 'matrix-js-sdk';
import { startEphemeralServer } from './ephemeral-test-server.js';
import { startSyncingClient, unrefLongTimers, waitFor } from '../../../helpers/js-sdk.js';

unrefLongTimers(60_000);

void t.test('matrix-js-sdk sees typing, receipts and presence from another user live', async (t) => {
  const server = await startEphemeralServer(t);
  const alice = await server.user('alice');
  const bob = await server.user('bob');
  const roomId = await server.room(alice, [bob]);
  const eventId = await server.send(alice, roomId, { msgtype: 'm.text', body: 'hello bob' });

  const client = await startSyncingClient(server.baseUrl, bob);
  t.ok(client.getRoom(roomId), 'the room is in the client after the initial sync');

  await t.test('typing', async (t) => {
    const typing = waitFor<string>('typing', (done) =>
      client.on(RoomMemberEvent.Typing, (_e: MatrixEvent, member) => {
        if (member.userId === alice.userId && member.typing) done(member.userId);
      }),
    );
    await server.call(
      'PUT',
      `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/typing/${encodeURIComponent(alice.userId)}`,
      alice,
      {
        typing: true,
        timeout: 10000,
      },
    );
    t.equal(await typing, alice.userId);
  });

  await t.test('read receipt', async (t) => {
    const receipt = waitFor<void>('a receipt', (done) =>
      client.on(RoomEvent.Receipt, () => {
        if (client.getRoom(roomId)?.getEventReadUpTo(alice.userId) === eventId) done();
      }),
    );
    await server.call(
      'POST',
      `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/receipt/m.read/${encodeURIComponent(eventId)}`,
      alice,
      {},
    );
    await receipt;
    t.equal(client.getRoom(roomId)?.getEventReadUpTo(alice.userId), eventId);
  });

  await t.test('presence', async (t) => {
    const presence = waitFor<string>('presence', (done) =>
      client.on(UserEvent.Presence, (_e, user) => {
        if (user.userId === alice.userId && user.presenceStatusMsg === 'in a meeting') done(user.presence);
      }),
    );
    await server.call(
      'PUT',
      `/_matrix/client/v3/presence/${encodeURIComponent(alice.userId)}/status`,
      alice,
      {
        presence: 'unavailable',
        status_msg: 'in a meeting',
      },
    );
    t.equal(await presence, 'unavailable');
  });

  client.stopClient();
});
