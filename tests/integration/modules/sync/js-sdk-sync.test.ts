/**
 * matrix-js-sdk 37 as a real client: its sync loop (startClient) sees another user's messages, an invite,
 * account data, room tags and to-device messages in real time, each through an open long-poll.
 */
import t from 'tap';
import { ClientEvent, RoomEvent, type MatrixEvent, type Room } from 'matrix-js-sdk';
import { withAllDatabases } from '../../../helpers/with-all-databases.js';
import { SyncTestServer, type Client } from './sync-client.js';
import { startSyncingClient, unrefLongTimers, waitFor } from '../../../helpers/js-sdk.js';

unrefLongTimers(60_000);

const startClient = (baseUrl: string, user: Client) =>
  startSyncingClient(baseUrl, { accessToken: user.token, userId: user.userId, deviceId: user.deviceId });

void withAllDatabases(t, async (t, database) => {
  const s = await SyncTestServer.start(t, database);
  const alice = await s.user('alice');
  const bob = await s.user('bob');
  const roomId = await s.createRoom(alice, { name: 'Live', preset: 'public_chat' });
  await s.join(bob, roomId);
  await s.send(alice, roomId, 'before the client started');

  const client = await startClient(s.server.baseUrl, bob);
  t.teardown(() => client.stopClient());

  await t.test('the initial sync gives the room, its name and history', async (t) => {
    const room = client.getRoom(roomId);
    t.ok(room);
    t.equal(room?.name, 'Live');
    const bodies = room
      ?.getLiveTimeline()
      .getEvents()
      .map((e) => e.getContent()['body'] as unknown);
    t.ok(bodies?.includes('before the client started'));
    t.equal(room?.getJoinedMemberCount(), 2);
  });

  await t.test("another user's messages arrive live, in order", async (t) => {
    const seen: string[] = [];
    const all = waitFor<void>('three messages', (done) =>
      client.on(RoomEvent.Timeline, (event: MatrixEvent, room: Room | undefined) => {
        if (room?.roomId !== roomId || event.getType() !== 'm.room.message') return;
        seen.push(event.getContent()['body'] as string);
        if (seen.length === 3) done();
      }),
    );
    for (const body of ['one', 'two', 'three']) await s.send(alice, roomId, body);
    await all;
    t.same(seen, ['one', 'two', 'three']);
  });

  await t.test('global account data arrives live', async (t) => {
    const got = waitFor<unknown>('account data', (done) =>
      client.on(ClientEvent.AccountData, (event: MatrixEvent) => {
        if (event.getType() === 'org.example.settings') done(event.getContent());
      }),
    );
    await s.ok(
      bob,
      'PUT',
      `/_matrix/client/v3/user/${encodeURIComponent(bob.userId)}/account_data/org.example.settings`,
      {
        theme: 'dark',
      },
    );
    t.same(await got, { theme: 'dark' });
    t.same(
      (client.getAccountData as (type: string) => MatrixEvent | undefined)(
        'org.example.settings',
      )?.getContent(),
      { theme: 'dark' },
    );
  });

  await t.test('a room tag arrives live', async (t) => {
    const tagged = waitFor<unknown>('tags', (done) =>
      client.on(RoomEvent.Tags, (event: MatrixEvent, room: Room) => {
        if (room.roomId === roomId) done(event.getContent());
      }),
    );
    await s.ok(
      bob,
      'PUT',
      `/_matrix/client/v3/user/${encodeURIComponent(bob.userId)}/rooms/${encodeURIComponent(roomId)}/tags/m.favourite`,
      { order: 0.5 },
    );
    t.same(await tagged, { tags: { 'm.favourite': { order: 0.5 } } });
  });

  await t.test('an invite arrives live', async (t) => {
    const other = await s.createRoom(alice, { name: 'Invite only' });
    const invited = waitFor<string>('the invite', (done) =>
      client.on(ClientEvent.Room, (room: Room) => {
        if (room.roomId === other) done(room.getMyMembership());
      }),
    );
    await s.invite(alice, other, bob);
    t.equal(await invited, 'invite');
  });

  await t.test('a to-device message arrives live', async (t) => {
    const got = waitFor<unknown>('to-device', (done) =>
      client.on(ClientEvent.ToDeviceEvent, (event: MatrixEvent) => {
        if (event.getType() === 'org.example.ping') done(event.getContent());
      }),
    );
    await s.ok(alice, 'PUT', '/_matrix/client/v3/sendToDevice/org.example.ping/tx1', {
      messages: { [bob.userId]: { [bob.deviceId]: { hello: 'device' } } },
    });
    t.same(await got, { hello: 'device' });
  });
});
