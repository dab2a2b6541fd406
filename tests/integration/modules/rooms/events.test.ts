import t from 'tap';
import { startRoomsServer } from './rooms-test-server.js';

void t.test('events', async (t) => {
  const server = await startRoomsServer(t);
  const alice = await server.user('alice');
  const bob = await server.user('bob');
  const carol = await server.user('carol');
  const roomId = await server.createRoom(alice, { preset: 'public_chat' });
  await server.call(bob, 'POST', server.room(roomId, '/join'), {});

  await t.test('send is idempotent per device and txn id', async (t) => {
    const path = server.room(roomId, '/send/m.room.message/same-txn');
    const first = await server.call(alice, 'PUT', path, { msgtype: 'm.text', body: 'once' });
    const again = await server.call(alice, 'PUT', path, { msgtype: 'm.text', body: 'once' });
    t.equal(first.status, 200);
    t.equal(again.body.event_id, first.body.event_id);
    const other = await server.call(bob, 'PUT', path, { msgtype: 'm.text', body: 'once' });
    t.not(other.body.event_id, first.body.event_id, 'another user with the same txn id sends anew');
    const ev = await server.call(alice, 'GET', server.room(roomId, `/event/${first.body.event_id}`));
    t.equal(ev.body.unsigned.transaction_id, 'same-txn', 'the sender device sees its transaction_id');
    const seenByBob = await server.call(bob, 'GET', server.room(roomId, `/event/${first.body.event_id}`));
    t.notOk('transaction_id' in seenByBob.body.unsigned);
  });

  await t.test('errors: not a member 403, unknown room 404, too large 413, bad JSON 400', async (t) => {
    const notMember = await server.call(carol, 'PUT', server.room(roomId, '/send/m.room.message/x1'), {
      body: 'x',
    });
    t.equal(notMember.status, 403);
    t.equal(notMember.body.errcode, 'M_FORBIDDEN');
    const unknown = await server.call(
      alice,
      'PUT',
      server.room('!unknown:test.local', '/send/m.room.message/x2'),
      { body: 'x' },
    );
    t.equal(unknown.status, 404);
    t.equal(unknown.body.errcode, 'M_NOT_FOUND');
    const big = await server.call(alice, 'PUT', server.room(roomId, '/send/m.room.message/x3'), {
      body: 'x'.repeat(70000),
    });
    t.equal(big.status, 413);
    t.equal(big.body.errcode, 'M_TOO_LARGE');
    const float = await server.call(alice, 'PUT', server.room(roomId, '/send/m.room.message/x4'), {
      body: 'x',
      n: 1.5,
    });
    t.equal(float.status, 400);
    const unknownState = await server.call(carol, 'GET', server.room('!unknown:test.local', '/state'));
    t.equal(unknownState.status, 404);
  });

  await t.test(
    'state: PUT with and without state key, GET content and format=event, power needed',
    async (t) => {
      const put = await server.call(alice, 'PUT', server.room(roomId, '/state/m.room.topic'), {
        topic: 'hello',
      });
      t.equal(put.status, 200);
      const content = await server.call(bob, 'GET', server.room(roomId, '/state/m.room.topic/'));
      t.same(content.body, { topic: 'hello' });
      const asEvent = await server.call(bob, 'GET', server.room(roomId, '/state/m.room.topic/?format=event'));
      t.equal(asEvent.body.event_id, put.body.event_id);
      t.equal(asEvent.body.type, 'm.room.topic');
      const same = await server.call(alice, 'PUT', server.room(roomId, '/state/m.room.topic/'), {
        topic: 'hello',
      });
      t.equal(same.body.event_id, put.body.event_id, 'unchanged state is not resent');
      const custom = await server.call(alice, 'PUT', server.room(roomId, '/state/org.example.thing/key1'), {
        a: 1,
      });
      t.equal(custom.status, 200);
      t.same((await server.call(bob, 'GET', server.room(roomId, '/state/org.example.thing/key1'))).body, {
        a: 1,
      });
      const denied = await server.call(bob, 'PUT', server.room(roomId, '/state/m.room.name/'), {
        name: 'bob',
      });
      t.equal(denied.status, 403);
      t.match(denied.body.error, /needs power level 50/);
      const missing = await server.call(bob, 'GET', server.room(roomId, '/state/m.room.avatar/'));
      t.equal(missing.status, 404);
      const all = await server.call(bob, 'GET', server.room(roomId, '/state'));
      t.ok(all.body.some((e: { type: string }) => e.type === 'm.room.topic'));
      t.equal((await server.call(carol, 'GET', server.room(roomId, '/state'))).status, 403);
      const replaced = await server.call(alice, 'PUT', server.room(roomId, '/state/m.room.topic/'), {
        topic: 'v2',
      });
      const ev = await server.call(alice, 'GET', server.room(roomId, `/event/${replaced.body.event_id}`));
      t.same(ev.body.unsigned.prev_content, { topic: 'hello' });
      t.equal(ev.body.unsigned.replaces_state, put.body.event_id);
    },
  );

  await t.test('members with membership filters and joined_members', async (t) => {
    await server.call(alice, 'POST', server.room(roomId, '/invite'), { user_id: carol.userId });
    const all = await server.call(bob, 'GET', server.room(roomId, '/members'));
    t.same(
      all.body.chunk.map((e: { state_key: string }) => e.state_key).sort(),
      [alice.userId, bob.userId, carol.userId].sort(),
    );
    const joined = await server.call(bob, 'GET', server.room(roomId, '/members?membership=join'));
    t.same(
      joined.body.chunk.map((e: { state_key: string }) => e.state_key).sort(),
      [alice.userId, bob.userId].sort(),
    );
    const notJoined = await server.call(bob, 'GET', server.room(roomId, '/members?not_membership=join'));
    t.same(
      notJoined.body.chunk.map((e: { state_key: string }) => e.state_key),
      [carol.userId],
    );
    const jm = await server.call(bob, 'GET', server.room(roomId, '/joined_members'));
    t.same(Object.keys(jm.body.joined).sort(), [alice.userId, bob.userId].sort());
    t.equal(jm.body.joined[alice.userId].display_name, 'alice');
    t.equal((await server.call(carol, 'GET', server.room(roomId, '/joined_members'))).status, 403);
    const before = await server.kernel.container.cradle.roomsApi.currentStreamPosition();
    await server.call(alice, 'POST', server.room(roomId, '/kick'), { user_id: carol.userId });
    const at = await server.call(bob, 'GET', server.room(roomId, `/members?at=s${before}&membership=invite`));
    t.same(
      at.body.chunk.map((e: { state_key: string }) => e.state_key),
      [carol.userId],
      'members at a past position',
    );
    const now = await server.call(bob, 'GET', server.room(roomId, '/members?membership=invite'));
    t.same(now.body.chunk, []);
  });

  await t.test('messages: both directions, tokens, limit, filter, lazy-loaded members', async (t) => {
    const r = await server.createRoom(alice, { preset: 'public_chat' });
    await server.call(bob, 'POST', server.room(r, '/join'), {});
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push(await server.send(i % 2 ? bob : alice, r, `m${i}`));
    const page1 = await server.call(alice, 'GET', server.room(r, '/messages?dir=b&limit=3'));
    t.same(
      page1.body.chunk.map((e: { event_id: string }) => e.event_id),
      [ids[6], ids[5], ids[4]],
    );
    const page2 = await server.call(
      alice,
      'GET',
      server.room(r, `/messages?dir=b&limit=3&from=${page1.body.end}`),
    );
    t.same(
      page2.body.chunk.map((e: { event_id: string }) => e.event_id),
      [ids[3], ids[2], ids[1]],
    );
    const forward = await server.call(
      alice,
      'GET',
      server.room(r, `/messages?dir=f&limit=2&from=${page2.body.end}`),
    );
    t.same(
      forward.body.chunk.map((e: { event_id: string }) => e.event_id),
      [ids[1], ids[2]],
    );
    const to = await server.call(
      alice,
      'GET',
      server.room(r, `/messages?dir=b&limit=50&from=${page1.body.end}&to=${page2.body.end}`),
    );
    t.same(
      to.body.chunk.map((e: { event_id: string }) => e.event_id),
      [ids[3], ids[2], ids[1]],
    );
    const filter = encodeURIComponent(
      JSON.stringify({ types: ['m.room.message'], senders: [bob.userId], lazy_load_members: true }),
    );
    const filtered = await server.call(
      alice,
      'GET',
      server.room(r, `/messages?dir=b&limit=10&filter=${filter}`),
    );
    t.same(
      filtered.body.chunk.map((e: { event_id: string }) => e.event_id),
      [ids[5], ids[3], ids[1]],
    );
    t.same(
      filtered.body.state.map((e: { state_key: string }) => e.state_key),
      [bob.userId],
    );
    const start = await server.call(alice, 'GET', server.room(r, '/messages?dir=f&limit=100'));
    t.equal(start.body.chunk[0].type, 'm.room.create');
    t.notOk('end' in start.body, 'no end when the room is exhausted');
    const streamToken = await server.call(
      alice,
      'GET',
      server.room(r, `/messages?dir=b&limit=1&from=s999999`),
    );
    t.equal(streamToken.body.chunk[0].event_id, ids[6]);
    t.equal((await server.call(alice, 'GET', server.room(r, '/messages?from=garbage'))).status, 400);
    t.equal((await server.call(carol, 'GET', server.room(r, '/messages'))).status, 403);
  });

  await t.test('history visibility: joined rooms hide earlier history; leaving ends the view', async (t) => {
    const r = await server.createRoom(alice, {
      preset: 'public_chat',
      initial_state: [{ type: 'm.room.history_visibility', content: { history_visibility: 'joined' } }],
    });
    const before = await server.send(alice, r, 'before carol');
    await server.call(carol, 'POST', server.room(r, '/join'), {});
    const during = await server.send(alice, r, 'while carol is here');
    await server.call(carol, 'POST', server.room(r, '/leave'), {});
    const after = await server.send(alice, r, 'after carol left');
    const seen = await server.call(carol, 'GET', server.room(r, '/messages?dir=b&limit=50'));
    const ids = seen.body.chunk.map((e: { event_id: string }) => e.event_id);
    t.ok(ids.includes(during));
    t.notOk(ids.includes(before));
    t.notOk(ids.includes(after));
    t.equal((await server.call(carol, 'GET', server.room(r, `/event/${before}`))).status, 404);
    const state = await server.call(carol, 'GET', server.room(r, '/state'));
    t.equal(state.status, 200, 'a former member reads the state as of leaving');
    const shared = await server.createRoom(alice, { preset: 'public_chat' });
    const old = await server.send(alice, shared, 'old');
    await server.call(carol, 'POST', server.room(shared, '/join'), {});
    t.equal(
      (await server.call(carol, 'GET', server.room(shared, `/event/${old}`))).status,
      200,
      'shared: history is visible after joining',
    );
    const worldReadable = await server.createRoom(alice, {
      initial_state: [
        { type: 'm.room.history_visibility', content: { history_visibility: 'world_readable' } },
      ],
    });
    const wr = await server.send(alice, worldReadable, 'public');
    t.equal((await server.call(carol, 'GET', server.room(worldReadable, `/event/${wr}`))).status, 200);
    t.equal((await server.call(carol, 'GET', server.room(worldReadable, '/messages?dir=b'))).status, 200);
  });

  await t.test('context around an event', async (t) => {
    const r = await server.createRoom(alice);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await server.send(alice, r, `c${i}`));
    const ctx = await server.call(alice, 'GET', server.room(r, `/context/${ids[2]}?limit=2`));
    t.equal(ctx.status, 200);
    t.equal(ctx.body.event.event_id, ids[2]);
    t.same(
      ctx.body.events_before.map((e: { event_id: string }) => e.event_id),
      [ids[1]],
    );
    t.same(
      ctx.body.events_after.map((e: { event_id: string }) => e.event_id),
      [ids[3]],
    );
    t.ok(ctx.body.state.some((e: { type: string }) => e.type === 'm.room.create'));
    const next = await server.call(alice, 'GET', server.room(r, `/messages?dir=f&from=${ctx.body.end}`));
    t.equal(next.body.chunk[0].event_id, ids[4]);
    const prev = await server.call(
      alice,
      'GET',
      server.room(r, `/messages?dir=b&limit=1&from=${ctx.body.start}`),
    );
    t.equal(prev.body.chunk[0].event_id, ids[0]);
    t.equal((await server.call(alice, 'GET', server.room(r, '/context/$nope'))).status, 404);
  });

  await t.test('redaction: own events, others need the redact level, content pruned', async (t) => {
    const r = await server.createRoom(alice, { preset: 'public_chat' });
    await server.call(bob, 'POST', server.room(r, '/join'), {});
    const mine = await server.send(bob, r, 'oops');
    const theirs = await server.send(alice, r, 'alice says');
    const own = await server.call(bob, 'PUT', server.room(r, `/redact/${mine}/rd1`), { reason: 'typo' });
    t.equal(own.status, 200);
    const again = await server.call(bob, 'PUT', server.room(r, `/redact/${mine}/rd1`), { reason: 'typo' });
    t.equal(again.body.event_id, own.body.event_id, 'idempotent per txn id');
    const redacted = await server.call(alice, 'GET', server.room(r, `/event/${mine}`));
    t.same(redacted.body.content, {});
    t.equal(redacted.body.unsigned.redacted_because.event_id, own.body.event_id);
    t.equal(redacted.body.unsigned.redacted_because.content.reason, 'typo');
    const stored = await server.kernel.container.cradle.roomsEventStore.getEvent(mine);
    t.notOk(JSON.stringify(stored?.pdu).includes('oops'), 'the original content is gone from the database');
    const denied = await server.call(bob, 'PUT', server.room(r, `/redact/${theirs}/rd2`), {});
    t.equal(denied.status, 403);
    t.match(denied.body.error, /power level 50/);
    t.equal(
      (await server.call(alice, 'PUT', server.room(r, `/redact/${mine}/rd3`), {})).status,
      200,
      'moderators may redact',
    );
    const redaction = await server.call(alice, 'GET', server.room(r, `/event/${own.body.event_id}`));
    t.equal(redaction.body.redacts, mine);
    t.equal(redaction.body.content.redacts, mine, 'v11+: redacts in content');
  });

  await t.test('relations, threads and bundled thread summaries', async (t) => {
    const r = await server.createRoom(alice, { preset: 'public_chat' });
    await server.call(bob, 'POST', server.room(r, '/join'), {});
    const root = await server.send(alice, r, 'root');
    const thread = (body: string) => ({
      msgtype: 'm.text',
      body,
      'm.relates_to': { rel_type: 'm.thread', event_id: root },
    });
    const t1 = (await server.call(bob, 'PUT', server.room(r, '/send/m.room.message/th1'), thread('one'))).body
      .event_id;
    const t2 = (await server.call(alice, 'PUT', server.room(r, '/send/m.room.message/th2'), thread('two')))
      .body.event_id;
    const react = (
      await server.call(bob, 'PUT', server.room(r, '/send/m.reaction/re1'), {
        'm.relates_to': { rel_type: 'm.annotation', event_id: t1, key: '👍' },
      })
    ).body.event_id;
    const v1 = `/_matrix/client/v1/rooms/${encodeURIComponent(r)}`;
    const all = await server.call(alice, 'GET', `${v1}/relations/${root}`);
    t.same(
      all.body.chunk.map((e: { event_id: string }) => e.event_id),
      [t2, t1],
    );
    const byType = await server.call(alice, 'GET', `${v1}/relations/${root}/m.thread/m.room.message?limit=1`);
    t.same(
      byType.body.chunk.map((e: { event_id: string }) => e.event_id),
      [t2],
    );
    const nextPage = await server.call(
      alice,
      'GET',
      `${v1}/relations/${root}/m.thread?limit=1&from=${byType.body.next_batch}`,
    );
    t.same(
      nextPage.body.chunk.map((e: { event_id: string }) => e.event_id),
      [t1],
    );
    const recursive = await server.call(alice, 'GET', `${v1}/relations/${root}?recurse=true&dir=f`);
    t.same(
      recursive.body.chunk.map((e: { event_id: string }) => e.event_id),
      [t1, t2, react],
    );
    t.equal(recursive.body.recursion_depth, 2);
    const threads = await server.call(bob, 'GET', `${v1}/threads`);
    t.same(
      threads.body.chunk.map((e: { event_id: string }) => e.event_id),
      [root],
    );
    const summary = threads.body.chunk[0].unsigned['m.relations']['m.thread'];
    t.equal(summary.count, 2);
    t.equal(summary.latest_event.event_id, t2);
    t.equal(summary.current_user_participated, true);
    const participated = await server.call(carol, 'GET', `${v1}/threads?include=participated`);
    t.equal(participated.status, 403, 'not a member');
    const rootEvent = await server.call(alice, 'GET', server.room(r, `/event/${root}`));
    t.equal(rootEvent.body.unsigned['m.relations']['m.thread'].count, 2);
  });

  await t.test('timestamp_to_event', async (t) => {
    const r = await server.createRoom(alice);
    const before = Date.now();
    const first = await server.send(alice, r, 'first');
    const v1 = `/_matrix/client/v1/rooms/${encodeURIComponent(r)}`;
    const f = await server.call(alice, 'GET', `${v1}/timestamp_to_event?ts=${before}&dir=f`);
    t.equal(f.body.event_id, first);
    const b = await server.call(alice, 'GET', `${v1}/timestamp_to_event?ts=${Date.now() + 1000}&dir=b`);
    t.equal(b.body.event_id, first);
    const none = await server.call(alice, 'GET', `${v1}/timestamp_to_event?ts=${Date.now() + 100000}&dir=f`);
    t.equal(none.status, 404);
    t.equal((await server.call(alice, 'GET', `${v1}/timestamp_to_event?ts=1&dir=x`)).status, 400);
  });

  await t.test('spam checker checkEventForSpam and userMaySendStateEvent', async (t) => {
    const r = await server.createRoom(alice);
    server.kernel.container.cradle.spamCheckers.add('words', {
      checkEventForSpam: async ({ event }) =>
        event.content['body'] === 'casino' ? { errcode: 'M_FORBIDDEN', error: 'spam' } : 'NOT_SPAM',
      userMaySendStateEvent: async ({ eventType }) =>
        eventType === 'org.blocked' ? { errcode: 'M_FORBIDDEN', error: 'blocked' } : 'NOT_SPAM',
    });
    const spam = await server.call(alice, 'PUT', server.room(r, '/send/m.room.message/sp1'), {
      msgtype: 'm.text',
      body: 'casino',
    });
    t.equal(spam.status, 403);
    t.equal(spam.body.error, 'spam');
    const ok = await server.call(alice, 'PUT', server.room(r, '/send/m.room.message/sp2'), {
      msgtype: 'm.text',
      body: 'fine',
    });
    t.equal(ok.status, 200);
    const state = await server.call(alice, 'PUT', server.room(r, '/state/org.blocked/'), {});
    t.equal(state.body.error, 'blocked');
  });
});
