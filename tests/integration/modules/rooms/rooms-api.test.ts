import t from 'tap';
import type { ClientEvent, PersistedEvent } from '../../../../modules/rooms/api.js';
import { startRoomsServer } from './rooms-test-server.js';

void t.test('RoomsApi for sync, e2ee, directory and plugins', async (t) => {
  const server = await startRoomsServer(t);
  const api = server.kernel.container.cradle.roomsApi;
  const hooks = server.kernel.container.cradle.roomsHooks;
  const alice = await server.user('alice');
  const bob = await server.user('bob');
  const persisted: PersistedEvent[] = [];
  hooks.onEventPersisted((e) => {
    persisted.push(e);
  });
  const wakes: number[] = [];
  // Other modules (device lists, push rules, …) wake bob too; this is about the events stream.
  server.kernel.container.cradle.notifier.subscribe({ userIds: [bob.userId] }, (c) => {
    if (c.stream === 'events') wakes.push(c.position);
  });

  const start = await api.currentStreamPosition();
  const roomId = await server.createRoom(alice, { preset: 'public_chat', name: 'Before' });
  const afterCreate = await api.currentStreamPosition();
  t.ok(afterCreate > start, 'the stream advances');
  await server.call(bob, 'POST', server.room(roomId, '/join'), {});
  t.equal(wakes.length, 1, "bob's membership event wakes bob");
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push(await server.send(alice, roomId, `m${i}`));
  await server.call(alice, 'PUT', server.room(roomId, '/state/m.room.name/'), { name: 'After' });
  const now = await api.currentStreamPosition();
  t.equal(persisted[persisted.length - 1]?.type, 'm.room.name', 'listeners see every persisted event');

  await t.test('timeline: newest events of a range, limited, prev_batch paginates on', async (t) => {
    const slice = await api.timeline(alice.userId, roomId, {
      after: afterCreate,
      upTo: now,
      limit: 3,
      deviceId: alice.deviceId,
    });
    t.same(
      slice.events.map((e) => e.type),
      ['m.room.message', 'm.room.message', 'm.room.name'],
    );
    t.equal(slice.events[1]?.event_id, ids[4]);
    t.equal(slice.limited, true);
    t.equal(
      slice.events[0]?.unsigned['transaction_id'] !== undefined,
      true,
      "the sender's device sees its txn ids",
    );
    const more = await server.call(
      alice,
      'GET',
      server.room(roomId, `/messages?dir=b&limit=2&from=${slice.prevBatch}`),
    );
    t.same(
      more.body.chunk.map((e: { event_id: string }) => e.event_id),
      [ids[2], ids[1]],
    );
    const whole = await api.timeline(alice.userId, roomId, { after: afterCreate, upTo: now, limit: 50 });
    t.equal(whole.limited, false);
    t.equal(whole.events.length, 7);
  });

  await t.test('state at a position and deltas between positions', async (t) => {
    const before = await api.stateAt(roomId, afterCreate);
    t.same(before.find((e) => e.type === 'm.room.name')?.content, { name: 'Before' });
    t.notOk(before.some((e) => e.state_key === bob.userId));
    const delta = await api.stateDelta(roomId, afterCreate, now);
    t.same(
      delta.map((e) => `${e.type}|${e.state_key}`).sort(),
      [`m.room.member|${bob.userId}`, 'm.room.name|'].sort(),
    );
    t.same((await api.currentStateEvent(roomId, 'm.room.name', ''))?.content, { name: 'After' });
    t.ok((await api.currentState(roomId)).length >= 6);
    t.same((await api.getRoomState(roomId)).get('m.room.name\u0000'), { name: 'After' });
  });

  await t.test('withPdu: each client event paired with its federation format', async (t) => {
    const plain = await api.timeline(alice.userId, roomId, {
      after: afterCreate,
      upTo: now,
      limit: 3,
      deviceId: alice.deviceId,
    });
    const slice = await api.timeline(alice.userId, roomId, {
      after: afterCreate,
      upTo: now,
      limit: 3,
      deviceId: alice.deviceId,
      withPdu: true,
    });
    const noAge = (e: ClientEvent) => ({ ...e, unsigned: { ...e.unsigned, age: 0 } });
    t.same(
      slice.events.map((e) => noAge(e.event)),
      plain.events.map(noAge),
      'the client events are those of the plain read',
    );
    t.equal(slice.limited, plain.limited);
    t.equal(slice.prevBatch, plain.prevBatch);
    for (const { event, pdu } of slice.events) {
      t.equal(pdu.event_id, event.event_id, 'event_id, as Synapse serves the federation format');
      t.equal(pdu.room_id, roomId);
      t.equal(pdu.sender, event.sender);
      t.equal(pdu.type, event.type);
      t.same(pdu.content, event.content);
      t.equal(pdu.origin_server_ts, event.origin_server_ts);
      t.ok(Array.isArray(pdu.prev_events) && pdu.prev_events.length > 0, 'prev_events');
      t.ok(Array.isArray(pdu.auth_events) && pdu.auth_events.length > 0, 'auth_events');
      t.type(pdu.depth, 'number');
      t.type(pdu.hashes.sha256, 'string');
      t.ok(pdu.signatures['test.local'], "this server's signature");
      t.type(pdu.unsigned['age'], 'number', 'unsigned.age');
    }
    t.type(slice.events[0]?.pdu.unsigned['transaction_id'], 'string', "the sender's device sees its txn id");
    const name = slice.events[2]?.pdu;
    t.equal(name?.state_key, '');
    t.same(name?.unsigned['prev_content'], { name: 'Before' }, 'the server unsigned of a state event');
    t.type(name?.unsigned['replaces_state'], 'string');

    const bobs = await api.timeline(bob.userId, roomId, {
      after: afterCreate,
      upTo: now,
      limit: 3,
      withPdu: true,
    });
    t.notOk(bobs.events[0]?.pdu.unsigned['transaction_id'], 'no txn id for another user');

    const state = await api.stateAt(roomId, afterCreate, { withPdu: true });
    const plainState = await api.stateAt(roomId, afterCreate);
    t.same(state.map((e) => e.event.event_id).sort(), plainState.map((e) => e.event_id).sort());
    t.ok(
      state.every((e) => e.pdu.event_id === e.event.event_id && e.pdu.hashes.sha256 && e.pdu.auth_events),
      'state events in federation format',
    );
    const create = state.find((e) => e.event.type === 'm.room.create')?.pdu;
    t.notOk(create && 'room_id' in create, 'a v12 create event has no room_id in its PDU');
    const delta = await api.stateDelta(roomId, afterCreate, now, { withPdu: true });
    t.same(
      delta.map((e) => `${e.pdu.type}|${e.pdu.state_key}`).sort(),
      [`m.room.member|${bob.userId}`, 'm.room.name|'].sort(),
    );
  });

  await t.test(
    'withPdu: a redacted event is the redacted PDU, redacted_because in federation format',
    async (t) => {
      const r = await server.createRoom(alice);
      const from = await api.currentStreamPosition();
      const target = await server.send(alice, r, 'to be redacted');
      const res = await server.call(
        alice,
        'PUT',
        server.room(r, `/redact/${encodeURIComponent(target)}/fedfmt1`),
        {
          reason: 'test',
        },
      );
      t.equal(res.status, 200);
      const upTo = await api.currentStreamPosition();
      const slice = await api.timeline(alice.userId, r, { after: from, upTo, limit: 10, withPdu: true });
      const [redacted, redaction] = slice.events;
      t.equal(redacted?.pdu.event_id, target);
      t.same(redacted?.pdu.content, {}, 'the redacted form');
      const because = redacted?.pdu.unsigned['redacted_because'] as Record<string, unknown> | undefined;
      t.equal(because?.['event_id'], res.body.event_id);
      t.ok(because?.['hashes'] && because['auth_events'], 'redacted_because is in federation format too');
      t.notOk(
        (redacted?.event.unsigned['redacted_because'] as Record<string, unknown>)['hashes'],
        'and client format in the client event',
      );
      t.equal(redaction?.pdu.redacts, target, 'redacts at the top level');
      t.equal(
        (redaction?.pdu.content as Record<string, unknown>)['redacts'],
        target,
        'and in content (v11+)',
      );
    },
  );

  await t.test('memberships, members, counts, shared users, versions', async (t) => {
    const changes = await api.membershipChangesOfUser(bob.userId, start, now);
    t.same(
      changes.map((c) => [c.roomId, c.membership]),
      [[roomId, 'join']],
    );
    const inRoom = await api.membershipChangesInRooms([roomId], start, now);
    t.same(
      inRoom.map((c) => c.userId),
      [alice.userId, bob.userId],
    );
    t.same((await api.members(roomId)).sort(), [alice.userId, bob.userId].sort());
    t.equal((await api.joinedMemberCounts([roomId])).get(roomId), 2);
    t.same((await api.usersSharingRoomWith(bob.userId)).sort(), [alice.userId, bob.userId].sort());
    t.equal(await api.roomVersion(roomId), '12');
    t.same([...(await api.roomVersions([roomId, '!nope:test.local']))], [[roomId, '12']]);
    t.same(await api.joinedRooms(bob.userId), [roomId]);
    t.same(await api.getJoinedRooms(bob.userId), [roomId]);
    const caps = api.roomVersionsCapability();
    t.equal(caps.default, '12');
    t.equal(caps.available['1'], 'stable');
    t.equal(Object.keys(caps.available).length, 12);
  });

  await t.test('directory hooks: alias resolution, create hook, visibility, state as a user', async (t) => {
    hooks.addAliasResolver(async (alias) => (alias === '#hello:test.local' ? roomId : undefined));
    const carol = await server.user('carol');
    const joined = await server.call(
      carol,
      'POST',
      `/_matrix/client/v3/join/${encodeURIComponent('#hello:test.local')}`,
      {},
    );
    t.same(joined.body, { room_id: roomId });
    const seen: string[] = [];
    hooks.onRoomCreated(async ({ roomId: r, request }) => {
      seen.push(String(request['room_alias_name']));
      await api.sendStateEvent(alice.userId, r, 'm.room.canonical_alias', '', { alias: '#x:test.local' });
    });
    const r2 = await server.createRoom(alice, { room_alias_name: 'x' });
    t.same(seen, ['x']);
    t.same((await api.currentStateEvent(r2, 'm.room.canonical_alias', ''))?.content, {
      alias: '#x:test.local',
    });
    await api.setRoomVisibility(r2, 'public');
    t.ok((await api.listRooms({ visibility: 'public' })).some((r) => r.roomId === r2));
    const refused = await api
      .sendStateEvent(bob.userId, r2, 'm.room.topic', '', { topic: 'x' })
      .catch((e: unknown) => e);
    t.equal((refused as { status?: number }).status, 403, 'auth rules apply to API sends');
    const sent = await api.sendEvent(alice.userId, roomId, 'm.room.message', {
      msgtype: 'm.notice',
      body: 'bot',
    });
    t.equal((await api.getEvent(sent.eventId))?.content['body'], 'bot');
    t.same([...(await api.visibleEventIds(carol.userId, roomId, [sent.eventId]))], [sent.eventId]);
  });
});
