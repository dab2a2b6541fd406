import t from 'tap';
import { startRoomsServer } from './rooms-test-server.js';

void t.test('room upgrades', async (t) => {
  const server = await startRoomsServer(t);
  const alice = await server.user('alice');
  const bob = await server.user('bob');
  const carol = await server.user('carol');

  await t.test('tombstone, predecessor, copied state and bans, old room locked down', async (t) => {
    const old = await server.createRoom(alice, {
      room_version: '10',
      preset: 'public_chat',
      name: 'Old',
      topic: 'T',
    });
    await server.call(bob, 'POST', server.room(old, '/join'), {});
    await server.call(carol, 'POST', server.room(old, '/join'), {});
    await server.call(alice, 'POST', server.room(old, '/ban'), { user_id: carol.userId, reason: 'spam' });
    const res = await server.call(alice, 'POST', server.room(old, '/upgrade'), { new_version: '12' });
    t.equal(res.status, 200, res.text);
    const replacement = res.body.replacement_room as string;
    const tomb = await server.call(bob, 'GET', server.room(old, '/state/m.room.tombstone/'));
    t.equal(tomb.body.replacement_room, replacement);
    const create = await server.call(alice, 'GET', server.room(replacement, '/state/m.room.create/'));
    t.equal(create.body.room_version, '12');
    t.equal(create.body.predecessor.room_id, old);
    t.same((await server.call(alice, 'GET', server.room(replacement, '/state/m.room.name/'))).body, {
      name: 'Old',
    });
    t.same((await server.call(alice, 'GET', server.room(replacement, '/state/m.room.join_rules/'))).body, {
      join_rule: 'public',
    });
    const ban = await server.call(
      alice,
      'GET',
      server.room(replacement, `/state/m.room.member/${carol.userId}`),
    );
    t.equal(ban.body.membership, 'ban');
    const pl = await server.call(alice, 'GET', server.room(replacement, '/state/m.room.power_levels/'));
    t.notOk(alice.userId in pl.body.users, 'v12: the creator is not listed in users');
    const oldPl = await server.call(alice, 'GET', server.room(old, '/state/m.room.power_levels/'));
    t.equal(oldPl.body.events_default, 50);
    t.equal(oldPl.body.invite, 50);
    const talk = await server.call(bob, 'PUT', server.room(old, '/send/m.room.message/after'), { body: 'x' });
    t.equal(talk.status, 403, 'the old room is read-only for ordinary members');
    t.equal((await server.call(bob, 'POST', server.room(replacement, '/join'), {})).status, 200);
  });

  await t.test('needs the tombstone level: 403; unknown version: 400', async (t) => {
    const r = await server.createRoom(alice, { preset: 'public_chat' });
    await server.call(bob, 'POST', server.room(r, '/join'), {});
    const denied = await server.call(bob, 'POST', server.room(r, '/upgrade'), { new_version: '12' });
    t.equal(denied.status, 403);
    t.match(denied.body.error, /100/);
    const bad = await server.call(alice, 'POST', server.room(r, '/upgrade'), { new_version: '99' });
    t.equal(bad.status, 400);
    t.equal(bad.body.errcode, 'M_UNSUPPORTED_ROOM_VERSION');
  });

  await t.test('v12 to v11: the upgrader gets level 100 explicitly', async (t) => {
    const r = await server.createRoom(alice);
    const res = await server.call(alice, 'POST', server.room(r, '/upgrade'), { new_version: '11' });
    t.equal(res.status, 200, res.text);
    const pl = await server.call(
      alice,
      'GET',
      server.room(res.body.replacement_room, '/state/m.room.power_levels/'),
    );
    t.equal(pl.body.users[alice.userId], 100);
  });
});
