import t from 'tap';
import { startRoomsServer } from './rooms-test-server.js';

void t.test('membership', async (t) => {
  const server = await startRoomsServer(t);
  const alice = await server.user('alice');
  const bob = await server.user('bob');
  const carol = await server.user('carol');
  const membershipOf = async (roomId: string, userId: string) =>
    (await server.call(alice, 'GET', server.room(roomId, `/state/m.room.member/${userId}`))).body
      ?.membership as string | undefined;

  await t.test('invite → join → leave, joined_rooms follows', async (t) => {
    const roomId = await server.createRoom(alice);
    t.equal(
      (await server.call(alice, 'POST', server.room(roomId, '/invite'), { user_id: bob.userId })).status,
      200,
    );
    t.equal(await membershipOf(roomId, bob.userId), 'invite');
    const joined = await server.call(
      bob,
      'POST',
      `/_matrix/client/v3/join/${encodeURIComponent(roomId)}`,
      {},
    );
    t.same(joined.body, { room_id: roomId });
    t.ok(
      (await server.call(bob, 'GET', '/_matrix/client/v3/joined_rooms')).body.joined_rooms.includes(roomId),
    );
    t.equal((await server.call(bob, 'POST', server.room(roomId, '/leave'), { reason: 'bye' })).status, 200);
    t.notOk(
      (await server.call(bob, 'GET', '/_matrix/client/v3/joined_rooms')).body.joined_rooms.includes(roomId),
    );
    t.equal(await membershipOf(roomId, bob.userId), 'leave');
  });

  await t.test('joining an invite-only room uninvited: 403', async (t) => {
    const roomId = await server.createRoom(alice);
    const res = await server.call(carol, 'POST', server.room(roomId, '/join'), {});
    t.equal(res.status, 403);
    t.equal(res.body.errcode, 'M_FORBIDDEN');
  });

  await t.test('a public room admits anyone; unknown room 404', async (t) => {
    const roomId = await server.createRoom(alice, { preset: 'public_chat' });
    t.equal((await server.call(carol, 'POST', server.room(roomId, '/join'), {})).status, 200);
    const unknown = await server.call(carol, 'POST', '/_matrix/client/v3/join/!nope:test.local', {});
    t.equal(unknown.status, 404);
    t.equal(unknown.body.errcode, 'M_NOT_FOUND');
    const alias = await server.call(
      carol,
      'POST',
      `/_matrix/client/v3/join/${encodeURIComponent('#nope:test.local')}`,
      {},
    );
    t.equal(alias.status, 404);
  });

  await t.test('kick and ban need power: 403 names the level', async (t) => {
    const roomId = await server.createRoom(alice, { preset: 'public_chat' });
    await server.call(bob, 'POST', server.room(roomId, '/join'), {});
    await server.call(carol, 'POST', server.room(roomId, '/join'), {});
    const kick = await server.call(bob, 'POST', server.room(roomId, '/kick'), { user_id: carol.userId });
    t.equal(kick.status, 403);
    t.match(kick.body.error, /50/);
    t.equal(
      (await server.call(alice, 'POST', server.room(roomId, '/kick'), { user_id: carol.userId, reason: 'r' }))
        .status,
      200,
    );
    t.equal(await membershipOf(roomId, carol.userId), 'leave');
    t.equal(
      (await server.call(alice, 'POST', server.room(roomId, '/ban'), { user_id: carol.userId })).status,
      200,
    );
    t.equal(await membershipOf(roomId, carol.userId), 'ban');
    const rejoin = await server.call(carol, 'POST', server.room(roomId, '/join'), {});
    t.equal(rejoin.status, 403);
    t.equal(
      (await server.call(alice, 'POST', server.room(roomId, '/unban'), { user_id: carol.userId })).status,
      200,
    );
    t.equal(await membershipOf(roomId, carol.userId), 'leave');
    t.equal((await server.call(carol, 'POST', server.room(roomId, '/join'), {})).status, 200);
    const unbanNotBanned = await server.call(alice, 'POST', server.room(roomId, '/unban'), {
      user_id: carol.userId,
    });
    t.equal(unbanNotBanned.status, 403);
  });

  await t.test('inviting needs the invite level; inviting a member is refused', async (t) => {
    const roomId = await server.createRoom(alice, { preset: 'public_chat' });
    await server.call(bob, 'POST', server.room(roomId, '/join'), {});
    const res = await server.call(bob, 'POST', server.room(roomId, '/invite'), { user_id: carol.userId });
    t.equal(res.status, 403);
    t.match(res.body.error, /50/);
    const again = await server.call(alice, 'POST', server.room(roomId, '/invite'), { user_id: bob.userId });
    t.equal(again.status, 403);
    const notMember = await server.call(carol, 'POST', server.room(roomId, '/invite'), {
      user_id: bob.userId,
    });
    t.equal(notMember.status, 403);
  });

  await t.test('forget: only after leaving', async (t) => {
    const roomId = await server.createRoom(alice, { preset: 'public_chat' });
    await server.call(bob, 'POST', server.room(roomId, '/join'), {});
    const early = await server.call(bob, 'POST', server.room(roomId, '/forget'), {});
    t.equal(early.status, 400);
    await server.call(bob, 'POST', server.room(roomId, '/leave'), {});
    t.equal((await server.call(bob, 'POST', server.room(roomId, '/forget'), {})).status, 200);
    const rooms = await server.kernel.container.cradle.roomsApi.roomsOfUser(bob.userId);
    t.notOk(
      rooms.some((r) => r.roomId === roomId),
      'forgotten rooms are not listed',
    );
  });

  await t.test('leaving a room one is not in: 403', async (t) => {
    const roomId = await server.createRoom(alice);
    t.equal((await server.call(carol, 'POST', server.room(roomId, '/leave'), {})).status, 403);
  });

  await t.test('knock on a knock room, then the knock is accepted by an invite', async (t) => {
    const roomId = await server.createRoom(alice, {
      initial_state: [{ type: 'm.room.join_rules', content: { join_rule: 'knock' } }],
    });
    const knock = await server.call(carol, 'POST', `/_matrix/client/v3/knock/${encodeURIComponent(roomId)}`, {
      reason: 'let me in',
    });
    t.same(knock.body, { room_id: roomId });
    t.equal(await membershipOf(roomId, carol.userId), 'knock');
    await server.call(alice, 'POST', server.room(roomId, '/invite'), { user_id: carol.userId });
    t.equal((await server.call(carol, 'POST', server.room(roomId, '/join'), {})).status, 200);
    const invitePrivate = await server.createRoom(alice);
    t.equal(
      (await server.call(carol, 'POST', `/_matrix/client/v3/knock/${encodeURIComponent(invitePrivate)}`, {}))
        .status,
      403,
    );
  });

  await t.test('restricted join through the allow list', async (t) => {
    const space = await server.createRoom(alice, {
      preset: 'public_chat',
      creation_content: { type: 'm.space' },
    });
    const roomId = await server.createRoom(alice, {
      initial_state: [
        {
          type: 'm.room.join_rules',
          content: { join_rule: 'restricted', allow: [{ type: 'm.room_membership', room_id: space }] },
        },
      ],
    });
    const early = await server.call(bob, 'POST', server.room(roomId, '/join'), {});
    t.equal(early.status, 403, 'not in the space yet');
    await server.call(bob, 'POST', server.room(space, '/join'), {});
    t.equal((await server.call(bob, 'POST', server.room(roomId, '/join'), {})).status, 200);
    const member = await server.call(bob, 'GET', server.room(roomId, `/state/m.room.member/${bob.userId}`));
    t.equal(member.body.join_authorised_via_users_server, alice.userId);
  });

  await t.test('spam checker userMayJoinRoom and userMayInvite', async (t) => {
    const roomId = await server.createRoom(alice, { preset: 'public_chat' });
    server.kernel.container.cradle.spamCheckers.add('no-dave', {
      userMayJoinRoom: async ({ roomId: r }) =>
        r === roomId ? { errcode: 'M_FORBIDDEN', error: 'closed' } : 'NOT_SPAM',
      userMayInvite: async ({ roomId: r }) =>
        r === roomId ? { errcode: 'M_FORBIDDEN', error: 'no invites' } : 'NOT_SPAM',
    });
    const join = await server.call(carol, 'POST', server.room(roomId, '/join'), {});
    t.equal(join.body.error, 'closed');
    const invite = await server.call(alice, 'POST', server.room(roomId, '/invite'), {
      user_id: carol.userId,
    });
    t.equal(invite.body.error, 'no invites');
  });

  await t.test('profile changes update member events; deactivation leaves rooms', async (t) => {
    const dave = await server.user('dave');
    const roomId = await server.createRoom(dave, { preset: 'public_chat' });
    const res = await server.call(
      dave,
      'PUT',
      `/_matrix/client/v3/profile/${encodeURIComponent(dave.userId)}/displayname`,
      { displayname: 'Dave D' },
    );
    t.equal(res.status, 200, res.text);
    const member = await server.call(dave, 'GET', server.room(roomId, `/state/m.room.member/${dave.userId}`));
    t.equal(member.body.displayname, 'Dave D');
    const api = server.kernel.container.cradle.roomsApi;
    await api.leaveAllRooms(dave.userId);
    t.same(await api.joinedRooms(dave.userId), []);
  });
});
