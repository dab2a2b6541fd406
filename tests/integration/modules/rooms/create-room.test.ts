import t from 'tap';
import { startRoomsServer, type RoomsTestServer, type TestUser } from './rooms-test-server.js';

async function stateOf(server: RoomsTestServer, user: TestUser, roomId: string) {
  const res = await server.call(user, 'GET', server.room(roomId, '/state'));
  t.equal(res.status, 200);
  return res.body as { type: string; state_key: string; content: Record<string, unknown>; sender: string }[];
}

void t.test('createRoom', async (t) => {
  const server = await startRoomsServer(t);
  const alice = await server.user('alice');
  const bob = await server.user('bob');

  await t.test('private_chat by default: the Synapse event sequence and power levels', async (t) => {
    const roomId = await server.createRoom(alice, { name: 'N', topic: 'T' });
    const msgs = await server.call(alice, 'GET', server.room(roomId, '/messages?dir=f&limit=50'));
    t.same(
      msgs.body.chunk.map((e: { type: string }) => e.type),
      [
        'm.room.create',
        'm.room.member',
        'm.room.power_levels',
        'm.room.join_rules',
        'm.room.history_visibility',
        'm.room.guest_access',
        'm.room.name',
        'm.room.topic',
      ],
    );
    const state = await stateOf(server, alice, roomId);
    const get = (type: string) => state.find((e) => e.type === type)?.content;
    t.same(get('m.room.join_rules'), { join_rule: 'invite' });
    t.same(get('m.room.history_visibility'), { history_visibility: 'shared' });
    t.same(get('m.room.guest_access'), { guest_access: 'can_join' });
    t.equal(get('m.room.create')?.['room_version'], '12');
    const pl = get('m.room.power_levels') as Record<string, unknown>;
    t.equal(pl['invite'], 0);
    t.same(pl['users'], {}, 'v12 creators have infinite power and are not listed');
    t.equal((pl['events'] as Record<string, number>)['m.room.power_levels'], 100);
    t.equal(get('m.room.topic')?.['topic'], 'T');
  });

  await t.test('public_chat: public join rule, no guest access, invite level 50', async (t) => {
    const roomId = await server.createRoom(alice, { preset: 'public_chat', visibility: 'public' });
    const state = await stateOf(server, alice, roomId);
    t.same(state.find((e) => e.type === 'm.room.join_rules')?.content, { join_rule: 'public' });
    t.notOk(state.some((e) => e.type === 'm.room.guest_access'));
    t.equal(state.find((e) => e.type === 'm.room.power_levels')?.content['invite'], 50);
    const rooms = await server.kernel.container.cradle.roomsApi.listRooms({ visibility: 'public' });
    t.ok(
      rooms.some((r) => r.roomId === roomId),
      'visibility is stored for the directory',
    );
  });

  await t.test('room_version 10: creator in content and users', async (t) => {
    const roomId = await server.createRoom(alice, { room_version: '10' });
    t.match(roomId, /^!.+:test\.local$/);
    const state = await stateOf(server, alice, roomId);
    t.equal(state.find((e) => e.type === 'm.room.create')?.content['creator'], alice.userId);
    t.same(state.find((e) => e.type === 'm.room.power_levels')?.content['users'], { [alice.userId]: 100 });
  });

  await t.test('unknown room version: 400 M_UNSUPPORTED_ROOM_VERSION', async (t) => {
    const res = await server.call(alice, 'POST', '/_matrix/client/v3/createRoom', { room_version: '999' });
    t.equal(res.status, 400);
    t.equal(res.body.errcode, 'M_UNSUPPORTED_ROOM_VERSION');
  });

  await t.test('default_room_version from config', async (t) => {
    const other = await startRoomsServer(t, { config: { default_room_version: '11' } });
    const carol = await other.user('carol');
    const roomId = await other.createRoom(carol);
    const create = await other.call(carol, 'GET', other.room(roomId, '/state/m.room.create/'));
    t.equal(create.body.room_version, '11');
  });

  await t.test('initial_state overrides the preset, power_level_content_override applies', async (t) => {
    const roomId = await server.createRoom(alice, {
      room_version: '11',
      initial_state: [
        { type: 'm.room.history_visibility', content: { history_visibility: 'joined' } },
        { type: 'm.room.encryption', state_key: '', content: { algorithm: 'm.megolm.v1.aes-sha2' } },
      ],
      power_level_content_override: { events_default: 10 },
    });
    const state = await stateOf(server, alice, roomId);
    t.same(state.find((e) => e.type === 'm.room.history_visibility')?.content, {
      history_visibility: 'joined',
    });
    t.ok(state.some((e) => e.type === 'm.room.encryption'));
    t.equal(state.find((e) => e.type === 'm.room.power_levels')?.content['events_default'], 10);
  });

  await t.test('invite with is_direct; trusted_private_chat makes invitees creators in v12', async (t) => {
    const roomId = await server.createRoom(alice, {
      invite: [bob.userId],
      is_direct: true,
      preset: 'trusted_private_chat',
    });
    const member = await server.call(alice, 'GET', server.room(roomId, `/state/m.room.member/${bob.userId}`));
    t.same(member.body, { membership: 'invite', is_direct: true, displayname: 'bob' });
    const create = await server.call(alice, 'GET', server.room(roomId, '/state/m.room.create'));
    t.same(create.body.additional_creators, [bob.userId]);
  });

  await t.test('invalid invitee: 400', async (t) => {
    const res = await server.call(alice, 'POST', '/_matrix/client/v3/createRoom', { invite: ['not-a-user'] });
    t.equal(res.status, 400);
  });

  await t.test('a spam checker refusing userMayCreateRoom: 403 with its errcode', async (t) => {
    server.kernel.container.cradle.spamCheckers.add('test', {
      userMayCreateRoom: async ({ userId }) =>
        userId === bob.userId ? { errcode: 'M_FORBIDDEN', error: 'no rooms for bob' } : 'NOT_SPAM',
    });
    const res = await server.call(bob, 'POST', '/_matrix/client/v3/createRoom', {});
    t.equal(res.status, 403);
    t.equal(res.body.error, 'no rooms for bob');
  });

  await t.test('unauthenticated: 401', async (t) => {
    const res = await server.call(undefined, 'POST', '/_matrix/client/v3/createRoom', {});
    t.equal(res.status, 401);
  });
});
