import t from 'tap';
import { withAllDatabasesConcurrently } from '../../../helpers/with-all-databases.js';
import { bodies, stateKeys, SyncTestServer, type Json } from './sync-client.js';

void withAllDatabasesConcurrently(t, async (t, database) => {
  const s = await SyncTestServer.start(t, database);
  const alice = await s.user('alice');
  const bob = await s.user('bob');
  const bob2 = await s.device(bob);
  const carol = await s.user('carol');

  await t.test(
    'invite shows invite_state; after joining, initial and incremental sync on two devices',
    async (t) => {
      const roomId = await s.createRoom(alice, { name: 'Lounge' });
      const before = await s.syncOk(bob);
      await s.invite(alice, roomId, bob);
      const invited = await s.syncOk(bob, { since: before.next_batch });
      const inviteState = invited.rooms.invite[roomId].invite_state.events;
      t.ok(
        inviteState.some((e: Json) => e.type === 'm.room.name' && e.content.name === 'Lounge'),
        'room name stripped',
      );
      t.ok(
        inviteState.some(
          (e: Json) =>
            e.type === 'm.room.member' && e.state_key === bob.userId && e.content.membership === 'invite',
        ),
      );
      await s.join(bob, roomId);
      await s.send(alice, roomId, 'welcome');
      const initial = await s.syncOk(bob);
      const room = initial.rooms.join[roomId];
      t.ok(room, 'the joined room is in the initial sync');
      const allState = stateKeys([
        ...room.state.events,
        ...room.timeline.events.filter((e: Json) => e.state_key !== undefined),
      ]);
      t.ok(allState.includes('m.room.create|'), 'create event in state or timeline');
      t.ok(allState.includes(`m.room.member|${bob.userId}`));
      t.same(bodies(room).slice(-1), ['welcome']);
      t.equal(room.summary['m.joined_member_count'], 2);
      t.same(room.summary['m.heroes'], [alice.userId]);
      const d2 = await s.syncOk(bob2);
      await s.send(alice, roomId, 'second');
      const inc1 = await s.syncOk(bob, { since: initial.next_batch });
      const inc2 = await s.syncOk(bob2, { since: d2.next_batch });
      t.same(bodies(inc1.rooms.join[roomId]), ['second']);
      t.same(bodies(inc2.rooms.join[roomId]), ['second'], 'the second device sees it too');
      t.equal(inc1.rooms.join[roomId].timeline.limited, false);
      t.same(inc1.rooms.join[roomId].state.events, []);
      const quiet = await s.syncOk(bob, { since: inc1.next_batch });
      t.same(quiet.rooms.join, {}, 'nothing new');
    },
  );

  await t.test('the sender sees its transaction id on its own device only', async (t) => {
    const roomId = await s.createRoom(alice);
    await s.invite(alice, roomId, bob);
    await s.join(bob, roomId);
    const a = await s.syncOk(alice);
    const b = await s.syncOk(bob);
    await s.send(alice, roomId, 'txn');
    const mine = (await s.syncOk(alice, { since: a.next_batch })).rooms.join[roomId].timeline.events[0];
    const theirs = (await s.syncOk(bob, { since: b.next_batch })).rooms.join[roomId].timeline.events[0];
    t.type(mine.unsigned.transaction_id, 'string');
    t.notOk(theirs.unsigned?.transaction_id);
  });

  await t.test(
    'gappy incremental sync: limited timeline, state from the gap, prev_batch pages back',
    async (t) => {
      const roomId = await s.createRoom(alice);
      await s.invite(alice, roomId, bob);
      await s.join(bob, roomId);
      const first = await s.syncOk(bob);
      for (let i = 0; i < 4; i++) await s.send(alice, roomId, `early${i}`);
      await s.state(alice, roomId, 'm.room.topic', { topic: 'changed in the gap' });
      for (let i = 0; i < 8; i++) await s.send(alice, roomId, `late${i}`);
      const res = await s.syncOk(bob, {
        since: first.next_batch,
        filter: { room: { timeline: { limit: 3 } } },
      });
      const room = res.rooms.join[roomId];
      t.same(bodies(room), ['late5', 'late6', 'late7']);
      t.equal(room.timeline.limited, true);
      t.same(stateKeys(room.state.events), ['m.room.topic|'], 'the topic change of the gap is in state');
      t.equal(room.state.events[0].content.topic, 'changed in the gap');
      const page = await s.ok(
        bob,
        'GET',
        s.room(roomId, `/messages?dir=b&limit=2&from=${encodeURIComponent(room.timeline.prev_batch)}`),
      );
      t.same(
        page.chunk.map((e: Json) => e.content.body),
        ['late4', 'late3'],
        'prev_batch continues just before the timeline',
      );
    },
  );

  await t.test('leave then rejoin', async (t) => {
    const roomId = await s.createRoom(alice, { preset: 'public_chat' });
    await s.join(bob, roomId);
    const first = await s.syncOk(bob);
    await s.send(alice, roomId, 'before');
    await s.leave(bob, roomId);
    await s.send(alice, roomId, 'while away');
    const left = await s.syncOk(bob, { since: first.next_batch });
    t.notOk(left.rooms.join[roomId]);
    const leave = left.rooms.leave[roomId];
    t.same(bodies(leave), ['before']);
    t.equal(leave.timeline.events.at(-1).content.membership, 'leave', 'the timeline ends with the leave');
    const away = await s.syncOk(bob, { since: left.next_batch });
    t.same([away.rooms.join, away.rooms.leave], [{}, {}], 'nothing while away');
    await s.join(bob, roomId);
    const back = await s.syncOk(bob, { since: away.next_batch });
    const room = back.rooms.join[roomId];
    t.ok(room, 'back in join');
    const all = stateKeys([
      ...room.state.events,
      ...room.timeline.events.filter((e: Json) => e.state_key !== undefined),
    ]);
    t.ok(all.includes('m.room.create|'), 'full state on rejoin');
    t.equal(room.timeline.events.at(-1).content.membership, 'join');
  });

  await t.test('kicked: the room moves to leave', async (t) => {
    const roomId = await s.createRoom(alice, { preset: 'public_chat' });
    await s.join(carol, roomId);
    const first = await s.syncOk(carol);
    await s.ok(alice, 'POST', s.room(roomId, '/kick'), { user_id: carol.userId, reason: 'bye' });
    const res = await s.syncOk(carol, { since: first.next_batch });
    t.ok(res.rooms.leave[roomId]);
    t.notOk(res.rooms.join[roomId]);
  });

  await t.test("an ignored user's messages are hidden, and come back when unignored", async (t) => {
    const roomId = await s.createRoom(alice, { preset: 'public_chat' });
    await s.join(bob, roomId);
    await s.join(carol, roomId);
    await s.ok(
      bob,
      'PUT',
      `/_matrix/client/v3/user/${encodeURIComponent(bob.userId)}/account_data/m.ignored_user_list`,
      {
        ignored_users: { [carol.userId]: {} },
      },
    );
    const first = await s.syncOk(bob);
    await s.send(carol, roomId, 'from carol');
    await s.send(alice, roomId, 'from alice');
    await s.state(carol, roomId, 'm.room.topic', { topic: 'carol may set state' }).catch(() => undefined);
    const res = await s.syncOk(bob, { since: first.next_batch });
    t.same(bodies(res.rooms.join[roomId]), ['from alice']);
    const aliceView = await s.syncOk(alice, { since: first.next_batch });
    t.ok(
      aliceView.rooms.join[roomId] === undefined ||
        Array.isArray(aliceView.rooms.join[roomId].timeline.events),
    );
    await s.ok(
      bob,
      'PUT',
      `/_matrix/client/v3/user/${encodeURIComponent(bob.userId)}/account_data/m.ignored_user_list`,
      {
        ignored_users: {},
      },
    );
    const unignored = await s.syncOk(bob, { since: res.next_batch });
    await s.send(carol, roomId, 'carol again');
    const after = await s.syncOk(bob, { since: unignored.next_batch });
    t.same(bodies(after.rooms.join[roomId]), ['carol again']);
  });

  await t.test('lazy loading members: only the senders, own membership on the first sync', async (t) => {
    const dave = await s.user('dave');
    const roomId = await s.createRoom(alice, { preset: 'public_chat' });
    await s.join(bob, roomId);
    await s.join(carol, roomId);
    await s.join(dave, roomId);
    await s.send(carol, roomId, 'carol talks');
    const lazy = { room: { state: { lazy_load_members: true }, timeline: { limit: 1 } } };
    const res = await s.syncOk(dave, { filter: lazy });
    const members = res.rooms.join[roomId].state.events.filter((e: Json) => e.type === 'm.room.member');
    t.same(members.map((e: Json) => e.state_key).sort(), [carol.userId, dave.userId].sort());
    t.equal(res.rooms.join[roomId].summary['m.joined_member_count'], 4, 'the summary still counts everyone');
    const full = await s.syncOk(dave, { filter: { room: { timeline: { limit: 1 } } } });
    t.equal(full.rooms.join[roomId].state.events.filter((e: Json) => e.type === 'm.room.member').length, 4);
  });

  await t.test('a rejected invite moves from invite to leave', async (t) => {
    const roomId = await s.createRoom(alice);
    const first = await s.syncOk(carol);
    await s.invite(alice, roomId, carol);
    const invited = await s.syncOk(carol, { since: first.next_batch });
    t.ok(invited.rooms.invite[roomId]);
    await s.leave(carol, roomId);
    const rejected = await s.syncOk(carol, { since: invited.next_batch });
    t.ok(rejected.rooms.leave[roomId]);
    t.notOk(rejected.rooms.invite[roomId]);
    t.notOk(rejected.rooms.join[roomId]);
  });

  await t.test('a displayname change is a state change, not a new join', async (t) => {
    const roomId = await s.createRoom(alice, { preset: 'public_chat' });
    await s.join(bob, roomId);
    const first = await s.syncOk(alice);
    await s.state(bob, roomId, 'm.room.member', { membership: 'join', displayname: 'Bobby' }, bob.userId);
    const res = await s.syncOk(bob, { since: first.next_batch });
    const room = res.rooms.join[roomId];
    t.same(room.state.events, [], 'no full state: bob was already joined');
    t.equal(room.timeline.events.at(-1).content.displayname, 'Bobby');
    const aliceView = await s.syncOk(alice, { since: first.next_batch });
    t.equal(aliceView.rooms.join[roomId].timeline.events.at(-1).content.displayname, 'Bobby');
  });

  await t.test('a long-poll wakes when another user sends; the timeout returns empty', async (t) => {
    const roomId = await s.createRoom(alice, { preset: 'public_chat' });
    await s.join(bob, roomId);
    const first = await s.syncOk(bob);
    const started = Date.now();
    const poll = s.syncOk(bob, { since: first.next_batch, timeout: 10_000 });
    setTimeout(() => void s.send(alice, roomId, 'ping'), 50);
    const res = await poll;
    t.ok(Date.now() - started < 3000, `returned after ${Date.now() - started} ms`);
    t.same(bodies(res.rooms.join[roomId]), ['ping']);
    const t0 = Date.now();
    const empty = await s.syncOk(bob, { since: res.next_batch, timeout: 300 });
    t.ok(Date.now() - t0 >= 250);
    t.same(empty.rooms.join, {});
    t.equal(empty.next_batch, res.next_batch);
  });

  await t.test('a long-poll wakes on an invite', async (t) => {
    const erin = await s.user('erin');
    const first = await s.syncOk(erin);
    const roomId = await s.createRoom(alice);
    const poll = s.syncOk(erin, { since: first.next_batch, timeout: 10_000 });
    setTimeout(() => void s.invite(alice, roomId, erin), 50);
    const res = await poll;
    t.ok(res.rooms.invite[roomId]);
  });

  await t.test('full_state on an incremental sync', async (t) => {
    const roomId = await s.createRoom(alice);
    const first = await s.syncOk(alice);
    await s.send(alice, roomId, 'x');
    const res = await s.syncOk(alice, { since: first.next_batch, full_state: true });
    const room = res.rooms.join[roomId];
    t.same(bodies(room), ['x'], 'the timeline still starts at since');
    t.ok(stateKeys(room.state.events).includes('m.room.create|'));
    t.ok(Object.keys(res.rooms.join).length >= 2, 'every joined room is included');
  });

  await t.test('room account data and tags reach sync', async (t) => {
    const roomId = await s.createRoom(alice);
    const first = await s.syncOk(alice);
    await s.ok(
      alice,
      'PUT',
      `/_matrix/client/v3/user/${encodeURIComponent(alice.userId)}/rooms/${encodeURIComponent(roomId)}/tags/u.work`,
      { order: 0.1 },
    );
    const res = await s.syncOk(alice, { since: first.next_batch });
    t.same(res.rooms.join[roomId].account_data.events, [
      { type: 'm.tag', content: { tags: { 'u.work': { order: 0.1 } } } },
    ]);
    t.same(bodies(res.rooms.join[roomId]), []);
  });

  await t.test('timeline filter by type and by sender; include_leave', async (t) => {
    const roomId = await s.createRoom(alice, { preset: 'public_chat' });
    await s.join(bob, roomId);
    const first = await s.syncOk(bob);
    await s.send(alice, roomId, 'a1');
    await s.send(bob, roomId, 'b1');
    await s.send(alice, roomId, 'img', { url: 'mxc://test.local/x' });
    const since = first.next_batch;
    const onlyAlice = await s.syncOk(bob, {
      since,
      filter: { room: { timeline: { senders: [alice.userId] } } },
    });
    t.same(bodies(onlyAlice.rooms.join[roomId]), ['a1', 'img']);
    const urls = await s.syncOk(bob, { since, filter: { room: { timeline: { contains_url: true } } } });
    t.same(bodies(urls.rooms.join[roomId]), ['img']);
    const notMsgs = await s.syncOk(bob, {
      since,
      filter: { room: { timeline: { not_types: ['m.room.*'] } } },
    });
    t.notOk(notMsgs.rooms.join[roomId]);
    await s.leave(bob, roomId);
    const withLeave = await s.syncOk(bob, { filter: { room: { include_leave: true } } });
    t.ok(withLeave.rooms.leave[roomId]);
    const noLeave = await s.syncOk(bob);
    t.notOk(noLeave.rooms.leave[roomId]);
  });
});
