/**
 * Synapse's server-wide room keys: encryption_enabled_by_default_for_room_type, block_non_admin_invites,
 * forget_rooms_on_leave, and auto_join_rooms with autocreate_auto_join_rooms / auto_join_mxid_localpart.
 */
import t from 'tap';
import { adminRegistrationConfig, makeUser } from '../../../helpers/fixtures.js';
import { startRoomsServer, type RoomsTestServer, type TestUser } from './rooms-test-server.js';

async function encryptionOf(server: RoomsTestServer, user: TestUser, roomId: string): Promise<unknown> {
  const res = await server.call(user, 'GET', server.room(roomId, '/state/m.room.encryption/'));
  return res.status === 200 ? res.body : res.status;
}

void t.test('encryption_enabled_by_default_for_room_type', async (t) => {
  for (const [setting, expected] of [
    ['off', { public_chat: 404, private_chat: 404 }],
    ['invite', { public_chat: 404, private_chat: 'encrypted' }],
    ['all', { public_chat: 'encrypted', private_chat: 'encrypted' }],
  ] as const) {
    await t.test(setting, async (t) => {
      const server = await startRoomsServer(t, {
        config: { encryption_enabled_by_default_for_room_type: setting },
      });
      const alice = await server.user('alice');
      for (const preset of ['public_chat', 'private_chat'] as const) {
        const roomId = await server.createRoom(alice, { preset });
        const want = expected[preset] === 'encrypted' ? { algorithm: 'm.megolm.v1.aes-sha2' } : 404;
        t.same(await encryptionOf(server, alice, roomId), want, preset);
      }
      if (setting === 'all') {
        const custom = await server.createRoom(alice, {
          initial_state: [{ type: 'm.room.encryption', content: { algorithm: 'org.example.other' } }],
        });
        t.same(
          await encryptionOf(server, alice, custom),
          { algorithm: 'org.example.other' },
          'initial_state wins',
        );
      }
    });
  }
});

void t.test('block_non_admin_invites: only server admins invite, in createRoom too', async (t) => {
  const server = await startRoomsServer(t, {
    config: { block_non_admin_invites: true, ...adminRegistrationConfig },
  });
  const alice = await server.user('alice');
  const bob = await server.user('bob');
  const admin = await makeUser(server, { localpart: 'admin', admin: true });
  const adminUser = {
    userId: admin.userId,
    token: admin.accessToken,
    deviceId: admin.deviceId,
    password: '',
  };
  const roomId = await server.createRoom(alice);
  const refused = await server.call(alice, 'POST', server.room(roomId, '/invite'), { user_id: bob.userId });
  t.equal(refused.status, 403);
  t.same(refused.body, { errcode: 'M_FORBIDDEN', error: 'Invites have been disabled on this server' });
  const withInvite = await server.call(alice, 'POST', '/_matrix/client/v3/createRoom', {
    invite: [bob.userId],
  });
  t.equal(withInvite.status, 403, 'createRoom with an invite list is refused too');

  const adminRoom = await server.createRoom(adminUser);
  const allowed = await server.call(adminUser, 'POST', server.room(adminRoom, '/invite'), {
    user_id: bob.userId,
  });
  t.equal(allowed.status, 200, 'an admin may invite');
});

void t.test('forget_rooms_on_leave: leaving (or being kicked) forgets the room', async (t) => {
  const server = await startRoomsServer(t, { config: { forget_rooms_on_leave: true } });
  const alice = await server.user('alice');
  const bob = await server.user('bob');
  const roomId = await server.createRoom(alice, { preset: 'public_chat' });
  const forgotten = async (userId: string): Promise<unknown> =>
    (await server.kernel.db('rooms_memberships').where({ room_id: roomId, user_id: userId }).first())
      ?.forgotten;

  t.equal((await server.call(bob, 'POST', server.room(roomId, '/join'), {})).status, 200);
  t.notOk(await forgotten(bob.userId), 'not forgotten while joined');
  t.equal((await server.call(bob, 'POST', server.room(roomId, '/leave'), {})).status, 200);
  t.ok(await forgotten(bob.userId), 'forgotten on leave');

  t.equal((await server.call(bob, 'POST', server.room(roomId, '/join'), {})).status, 200);
  t.notOk(await forgotten(bob.userId), 'a rejoin clears it');
  const kick = await server.call(alice, 'POST', server.room(roomId, '/kick'), { user_id: bob.userId });
  t.equal(kick.status, 200);
  t.ok(await forgotten(bob.userId), 'forgotten on kick');
});

void t.test('auto_join_rooms: the first user creates the room, later users join it', async (t) => {
  const server = await startRoomsServer(t, {
    config: { auto_join_rooms: ['#welcome:test.local', '#elsewhere:other.example'] },
  });
  const alice = await server.user('alice');
  const joined = async (user: TestUser): Promise<string[]> =>
    (await server.call(user, 'GET', '/_matrix/client/v3/joined_rooms')).body.joined_rooms as string[];
  const aliceRooms = await joined(alice);
  t.equal(aliceRooms.length, 1, 'one room created; the remote alias is skipped');
  const alias = await server.call(alice, 'GET', '/_matrix/client/v3/directory/room/%23welcome%3Atest.local');
  t.equal(alias.body.room_id, aliceRooms[0], 'with its alias');
  const create = await server.call(alice, 'GET', server.room(aliceRooms[0] ?? '', '/state/m.room.create/'));
  t.equal(create.body['m.federate'], true);

  const bob = await server.user('bob');
  t.same(await joined(bob), aliceRooms, 'the next user joins it');
});

void t.test('auto_join_mxid_localpart creates invite-only rooms and invites each new user', async (t) => {
  const server = await startRoomsServer(t, {
    config: {
      auto_join_rooms: ['#staff:test.local'],
      auto_join_mxid_localpart: 'system',
      autocreate_auto_join_room_preset: 'private_chat',
      autocreate_auto_join_rooms_federated: false,
    },
  });
  const alice = await server.user('alice');
  const bob = await server.user('bob');
  const aliceRooms = (await server.call(alice, 'GET', '/_matrix/client/v3/joined_rooms')).body.joined_rooms;
  const bobRooms = (await server.call(bob, 'GET', '/_matrix/client/v3/joined_rooms')).body.joined_rooms;
  t.equal(aliceRooms.length, 1);
  t.same(bobRooms, aliceRooms);
  const roomId = aliceRooms[0] as string;
  const create = await server.call(alice, 'GET', server.room(roomId, '/state/m.room.create/'));
  t.equal(create.body['m.federate'], false);
  const joinRules = await server.call(alice, 'GET', server.room(roomId, '/state/m.room.join_rules/'));
  t.equal(joinRules.body.join_rule, 'invite');
  const members = await server.call(alice, 'GET', server.room(roomId, '/joined_members'));
  t.same(Object.keys(members.body.joined).sort(), [
    '@alice:test.local',
    '@bob:test.local',
    '@system:test.local',
  ]);
});
