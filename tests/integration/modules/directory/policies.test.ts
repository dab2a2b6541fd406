import t from 'tap';
import { adminRegistrationConfig, makeUser } from '../../../helpers/fixtures.js';
import { startRoomsServer } from '../rooms/rooms-test-server.js';

const C = '/_matrix/client/v3';
const alias = (name: string) => `${C}/directory/room/${encodeURIComponent(`#${name}:test.local`)}`;
const list = (roomId: string) => `${C}/directory/list/room/${encodeURIComponent(roomId)}`;

void t.test('directory spam checks and server admins', async (t) => {
  const server = await startRoomsServer(t, { config: { ...adminRegistrationConfig } });
  const alice = await server.user('alice');
  const mallory = await server.user('mallory');
  const admin = await makeUser(server, { localpart: 'root', admin: true });
  const adminUser = {
    userId: admin.userId,
    token: admin.accessToken,
    deviceId: admin.deviceId,
    password: '',
  };
  server.kernel.container.cradle.spamCheckers.add('test', {
    userMayCreateRoomAlias: async ({ userId, roomAlias }) =>
      userId === mallory.userId || roomAlias.startsWith('#banned')
        ? { errcode: 'M_FORBIDDEN', error: 'no aliases' }
        : 'NOT_SPAM',
    userMayPublishRoom: async ({ userId }) =>
      userId === mallory.userId ? { errcode: 'M_FORBIDDEN', error: 'no publishing' } : 'NOT_SPAM',
  });

  await t.test('userMayCreateRoomAlias refuses PUT /directory/room with its 403', async (t) => {
    const roomId = await server.createRoom(mallory);
    const res = await server.call(mallory, 'PUT', alias('mine'), { room_id: roomId });
    t.equal(res.status, 403);
    t.equal(res.body.error, 'no aliases');
    t.equal((await server.call(undefined, 'GET', alias('mine'))).status, 404);
  });

  await t.test(
    'userMayCreateRoomAlias refuses createRoom room_alias_name before the room exists',
    async (t) => {
      const before = (await server.call(alice, 'GET', `${C}/joined_rooms`)).body.joined_rooms.length;
      const res = await server.call(alice, 'POST', `${C}/createRoom`, { room_alias_name: 'banned-room' });
      t.equal(res.status, 403);
      t.equal((await server.call(alice, 'GET', `${C}/joined_rooms`)).body.joined_rooms.length, before);
    },
  );

  await t.test('userMayPublishRoom refuses PUT /directory/list/room and createRoom visibility', async (t) => {
    const roomId = await server.createRoom(mallory, { preset: 'public_chat' });
    const res = await server.call(mallory, 'PUT', list(roomId), { visibility: 'public' });
    t.equal(res.status, 403);
    t.equal(res.body.error, 'no publishing');
    t.equal((await server.call(mallory, 'PUT', list(roomId), { visibility: 'private' })).status, 200);
    const created = await server.call(mallory, 'POST', `${C}/createRoom`, { visibility: 'public' });
    t.equal(created.status, 403);
    const listed = await server.call(undefined, 'GET', `${C}/publicRooms`);
    t.same(listed.body.chunk, []);
  });

  await t.test('a server admin may publish any room and delete any alias', async (t) => {
    const roomId = await server.createRoom(alice, { preset: 'public_chat', room_alias_name: 'alices' });
    t.equal((await server.call(adminUser, 'PUT', list(roomId), { visibility: 'public' })).status, 200);
    t.same((await server.call(undefined, 'GET', list(roomId))).body, { visibility: 'public' });
    t.equal((await server.call(adminUser, 'DELETE', alias('alices'))).status, 200);
    t.equal((await server.call(undefined, 'GET', alias('alices'))).status, 404);
  });
});
