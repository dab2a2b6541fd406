import t from 'tap';
import { withAllDatabases } from '../../../helpers/with-all-databases.js';
import { startRoomsServer } from '../rooms/rooms-test-server.js';

const V1 = '/_matrix/client/v1';
const hierarchy = (roomId: string, qs = '') => `${V1}/rooms/${encodeURIComponent(roomId)}/hierarchy${qs}`;
const summary = (idOrAlias: string) => `${V1}/room_summary/${encodeURIComponent(idOrAlias)}`;
const ids = (rooms: { room_id: string }[]) => rooms.map((r) => r.room_id);

void withAllDatabases(t, async (t, database) => {
  const server = await startRoomsServer(t, { database });
  const alice = await server.user('alice');
  const bob = await server.user('bob');
  const carol = await server.user('carol');

  const addChild = async (spaceId: string, childId: string, content: Record<string, unknown>) => {
    const res = await server.call(
      alice,
      'PUT',
      server.room(spaceId, `/state/m.space.child/${encodeURIComponent(childId)}`),
      content,
    );
    if (res.status !== 200) throw new Error(`m.space.child: ${res.status} ${res.text}`);
  };

  // space → [public room B (order "b"), public room A (order "a"), private room, subspace → deep room]
  const space = await server.createRoom(alice, {
    preset: 'public_chat',
    name: 'Space',
    creation_content: { type: 'm.space' },
  });
  const roomA = await server.createRoom(alice, { preset: 'public_chat', name: 'A' });
  const roomB = await server.createRoom(alice, { preset: 'public_chat', name: 'B' });
  const secret = await server.createRoom(alice, { preset: 'private_chat', name: 'Secret' });
  const subspace = await server.createRoom(alice, {
    preset: 'public_chat',
    creation_content: { type: 'm.space' },
  });
  const deep = await server.createRoom(alice, { preset: 'public_chat', name: 'Deep' });
  await addChild(space, roomB, { via: ['test.local'], order: 'b' });
  await addChild(space, roomA, { via: ['test.local'], order: 'a', suggested: true });
  await addChild(space, secret, { via: ['test.local'] });
  await addChild(space, subspace, { via: ['test.local'] });
  await addChild(space, '!unknown:test.local', { via: ['test.local'] });
  await addChild(space, '!removed:test.local', {});
  await addChild(subspace, deep, { via: ['test.local'] });

  await t.test(
    'the hierarchy walks depth first in the spec order, without rooms one cannot see',
    async (t) => {
      const res = await server.call(bob, 'GET', hierarchy(space));
      t.equal(res.status, 200);
      t.same(ids(res.body.rooms), [space, roomA, roomB, subspace, deep]);
      t.notOk(res.body.next_batch);
      const root = res.body.rooms[0];
      t.equal(root.room_type, 'm.space');
      t.equal(root.name, 'Space');
      t.equal(root.join_rule, 'public');
      t.equal(root.num_joined_members, 1);
      // the child without `via` is not a child
      t.equal(root.children_state.length, 5);
      t.match(root.children_state[0], {
        type: 'm.space.child',
        state_key: roomA,
        content: { via: ['test.local'], order: 'a' },
        sender: alice.userId,
      });
      t.type(root.children_state[0].origin_server_ts, 'number');
      t.same(res.body.rooms[1].children_state, []);
    },
  );

  await t.test('a joined member sees the private child', async (t) => {
    const res = await server.call(alice, 'GET', hierarchy(space));
    t.same(ids(res.body.rooms), [space, roomA, roomB, secret, subspace, deep]);
  });

  await t.test('suggested_only, max_depth and limit/from', async (t) => {
    t.same(ids((await server.call(bob, 'GET', hierarchy(space, '?suggested_only=true'))).body.rooms), [
      space,
      roomA,
    ]);
    t.same(ids((await server.call(bob, 'GET', hierarchy(space, '?max_depth=1'))).body.rooms), [
      space,
      roomA,
      roomB,
      subspace,
    ]);
    t.same(ids((await server.call(bob, 'GET', hierarchy(space, '?max_depth=0'))).body.rooms), [space]);
    const page1 = await server.call(bob, 'GET', hierarchy(space, '?limit=2'));
    t.same(ids(page1.body.rooms), [space, roomA]);
    t.type(page1.body.next_batch, 'string');
    const page2 = await server.call(bob, 'GET', hierarchy(space, `?limit=2&from=${page1.body.next_batch}`));
    t.same(ids(page2.body.rooms), [roomB, subspace]);
    const page3 = await server.call(bob, 'GET', hierarchy(space, `?limit=2&from=${page2.body.next_batch}`));
    t.same(ids(page3.body.rooms), [deep]);
    t.notOk(page3.body.next_batch);
    const changed = await server.call(
      bob,
      'GET',
      hierarchy(space, `?limit=2&suggested_only=true&from=${page1.body.next_batch}`),
    );
    t.equal(changed.status, 400);
    t.equal(changed.body.errcode, 'M_INVALID_PARAM');
    t.equal((await server.call(bob, 'GET', hierarchy(space, '?from=junk'))).status, 400);
    t.equal((await server.call(bob, 'GET', hierarchy(space, '?limit=0'))).status, 400);
    t.equal((await server.call(bob, 'GET', hierarchy(space, '?max_depth=-1'))).status, 400);
  });

  await t.test('a root one cannot see is 403; the endpoint needs auth', async (t) => {
    const res = await server.call(bob, 'GET', hierarchy(secret));
    t.equal(res.status, 403);
    t.equal(res.body.errcode, 'M_FORBIDDEN');
    t.equal((await server.call(bob, 'GET', hierarchy('!unknown:test.local'))).status, 403);
    t.equal((await server.call(undefined, 'GET', hierarchy(space))).status, 401);
  });

  await t.test('room_summary: public rooms to anyone, membership when authenticated', async (t) => {
    t.equal(
      (
        await server.call(
          alice,
          'PUT',
          `/_matrix/client/v3/directory/room/${encodeURIComponent('#space:test.local')}`,
          {
            room_id: space,
          },
        )
      ).status,
      200,
    );
    const anon = await server.call(undefined, 'GET', summary('#space:test.local'));
    t.equal(anon.status, 200);
    t.match(anon.body, {
      room_id: space,
      name: 'Space',
      room_type: 'm.space',
      join_rule: 'public',
      num_joined_members: 1,
      world_readable: false,
      guest_can_join: false,
    });
    t.type(anon.body.room_version, 'string');
    t.notOk('membership' in anon.body);
    t.equal((await server.call(alice, 'GET', summary(space))).body.membership, 'join');
    t.equal((await server.call(bob, 'GET', summary(space))).body.membership, 'leave');
  });

  await t.test('room_summary: private rooms only to members and invitees, else 404', async (t) => {
    t.equal((await server.call(undefined, 'GET', summary(secret))).status, 404);
    const res = await server.call(carol, 'GET', summary(secret));
    t.equal(res.status, 404);
    t.equal(res.body.errcode, 'M_NOT_FOUND');
    t.equal(
      (await server.call(alice, 'POST', server.room(secret, '/invite'), { user_id: carol.userId })).status,
      200,
    );
    const invited = await server.call(carol, 'GET', summary(secret));
    t.equal(invited.status, 200);
    t.equal(invited.body.membership, 'invite');
    t.equal(invited.body.join_rule, 'invite');
    t.equal((await server.call(carol, 'GET', summary('!nope:test.local'))).status, 404);
    t.equal((await server.call(carol, 'GET', summary('#nope:test.local'))).status, 404);
    t.equal((await server.call(carol, 'GET', summary('nonsense'))).status, 400);
  });

  await t.test(
    'room_summary: restricted rooms show allowed_room_ids to members of the allowed room',
    async (t) => {
      const restricted = await server.createRoom(alice, {
        room_version: '10',
        initial_state: [
          {
            type: 'm.room.join_rules',
            content: { join_rule: 'restricted', allow: [{ type: 'm.room_membership', room_id: roomA }] },
          },
        ],
      });
      t.equal((await server.call(carol, 'GET', summary(restricted))).status, 404);
      t.equal((await server.call(carol, 'POST', server.room(roomA, '/join'), {})).status, 200);
      const res = await server.call(carol, 'GET', summary(restricted));
      t.equal(res.status, 200);
      t.same(res.body.allowed_room_ids, [roomA]);
    },
  );

  await t.test('mutual_rooms lists joined rooms both users share', async (t) => {
    const shared1 = await server.createRoom(alice, { preset: 'public_chat' });
    const shared2 = await server.createRoom(alice, { preset: 'public_chat' });
    await server.createRoom(alice, { preset: 'public_chat' });
    for (const r of [shared1, shared2]) await server.call(bob, 'POST', server.room(r, '/join'), {});
    const res = await server.call(
      bob,
      'GET',
      `${V1}/mutual_rooms?user_id=${encodeURIComponent(alice.userId)}`,
    );
    t.equal(res.status, 200);
    t.same(res.body.joined, [shared1, shared2].sort());
    t.equal(res.body.count, 2);
    t.notOk(res.body.next_batch);
    const none = await server.call(
      bob,
      'GET',
      `${V1}/mutual_rooms?user_id=${encodeURIComponent('@ghost:test.local')}`,
    );
    t.same(none.body, { joined: [], count: 0 });
    const self = await server.call(
      bob,
      'GET',
      `${V1}/mutual_rooms?user_id=${encodeURIComponent(bob.userId)}`,
    );
    t.equal(self.status, 400);
    t.equal(self.body.errcode, 'M_INVALID_PARAM');
    t.equal((await server.call(bob, 'GET', `${V1}/mutual_rooms?user_id=nobody`)).status, 400);
    const missing = await server.call(bob, 'GET', `${V1}/mutual_rooms`);
    t.equal(missing.status, 400);
    t.equal(missing.body.errcode, 'M_MISSING_PARAM');
    t.equal(
      (
        await server.call(
          bob,
          'GET',
          `${V1}/mutual_rooms?user_id=${encodeURIComponent(alice.userId)}&from=xx`,
        )
      ).status,
      400,
    );
    t.equal(
      (await server.call(undefined, 'GET', `${V1}/mutual_rooms?user_id=${encodeURIComponent(alice.userId)}`))
        .status,
      401,
    );
  });
});
