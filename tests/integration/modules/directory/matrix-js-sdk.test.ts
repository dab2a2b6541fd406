/** matrix-js-sdk as a real client of the directory: aliases, the public room list, hierarchy, summary. */
import t from 'tap';
import { createClient, Preset, Visibility, type MatrixClient } from 'matrix-js-sdk';
import { startRoomsServer, type RoomsTestServer, type TestUser } from '../rooms/rooms-test-server.js';

function clientFor(server: RoomsTestServer, user: TestUser): MatrixClient {
  return createClient({
    baseUrl: server.baseUrl,
    accessToken: user.token,
    userId: user.userId,
    deviceId: user.deviceId,
  });
}

void t.test('matrix-js-sdk: alias, publish, publicRooms, join by alias, hierarchy', async (t) => {
  const server = await startRoomsServer(t);
  const alice = clientFor(server, await server.user('alice'));
  const bob = clientFor(server, await server.user('bob'));

  const { room_id: roomId } = await alice.createRoom({
    name: 'sdk lobby',
    room_alias_name: 'sdk-lobby',
    visibility: Visibility.Public,
    preset: Preset.PublicChat,
  });
  await alice.createAlias('#sdk-extra:test.local', roomId);
  t.same((await bob.getRoomIdForAlias('#sdk-extra:test.local')).room_id, roomId);
  t.same((await alice.getLocalAliases(roomId)).aliases.sort(), [
    '#sdk-extra:test.local',
    '#sdk-lobby:test.local',
  ]);

  const listed = await bob.publicRooms({ filter: { generic_search_term: 'LOBBY' } });
  t.same(
    listed.chunk.map((c) => c.room_id),
    [roomId],
  );
  t.equal(listed.chunk[0]?.canonical_alias, '#sdk-lobby:test.local');
  t.equal((await bob.getRoomDirectoryVisibility(roomId)).visibility, 'public');

  const joined = await bob.joinRoom('#sdk-lobby:test.local');
  t.equal(joined.roomId, roomId);

  const hierarchy = await bob.getRoomHierarchy(roomId);
  t.same(
    hierarchy.rooms.map((r) => r.room_id),
    [roomId],
  );
  await alice.deleteAlias('#sdk-extra:test.local');
  t.same((await alice.getLocalAliases(roomId)).aliases, ['#sdk-lobby:test.local']);
  alice.stopClient();
  bob.stopClient();
});
