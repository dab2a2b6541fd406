import t from 'tap';
import { pino } from 'pino';
import { InProcessNotifier } from '../../../../core/notifier/in-process.js';
import type { SyncEventJson, SyncFeeds } from '../../../../modules/sync/api.js';
import type { SyncFilter } from '../../../../modules/sync/services/filter.js';
import { SyncService, type SyncRequest } from '../../../../modules/sync/services/sync-service.js';
import { FakeRooms } from './fake-rooms.js';

const A = '@alice:x';
const B = '@bob:x';
const C = '@carol:x';
const R = '!r:x';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

function setup(options: { feeds?: Partial<SyncFeeds>; ignored?: Record<string, string[]> } = {}) {
  const rooms = new FakeRooms();
  const notifier = new InProcessNotifier();
  const service = new SyncService({
    rooms: () => rooms,
    feeds: () => options.feeds ?? {},
    notifier,
    shutdownSignal: new AbortController().signal,
    logger: pino({ level: 'silent' }),
    ignoredUsers: async (u) => new Set(options.ignored?.[u] ?? []),
  });
  const sync = (userId: string, extra: Partial<SyncRequest> = {}): Promise<Json> =>
    service.sync({
      userId,
      deviceId: 'D',
      filter: {},
      fullState: false,
      setPresence: 'online',
      timeoutMs: 0,
      useStateAfter: false,
      ...extra,
    });
  return { rooms, notifier, sync };
}

const bodies = (room: Json): string[] => room.timeline.events.map((e: Json) => e.content.body ?? e.type);
const stateTypes = (room: Json): string[] =>
  room.state.events.map((e: Json) => `${e.type}|${e.state_key}`).sort();

void t.test(
  'initial sync: joined room with state before the timeline, limited timeline, summary',
  async (t) => {
    const { rooms, sync } = setup();
    rooms.createRoom(R, A, [B]);
    rooms.send(R, A, 'm.room.name', { name: 'Room' }, '');
    for (let i = 0; i < 12; i++) rooms.message(R, B, `m${i}`);
    const res = await sync(A);
    const room: Json = res.rooms.join[R];
    t.same(
      bodies(room),
      ['m2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9', 'm10', 'm11'],
      'newest 10 by default',
    );
    t.equal(room.timeline.limited, true);
    t.equal(room.timeline.prev_batch, `s${rooms.stream - 10}`);
    t.same(stateTypes(room), [
      'm.room.create|',
      'm.room.member|@alice:x',
      'm.room.member|@bob:x',
      'm.room.name|',
    ]);
    t.same(room.summary, { 'm.heroes': [B], 'm.joined_member_count': 2, 'm.invited_member_count': 0 });
    t.notOk('room_id' in room.timeline.events[0], 'events in sync have no room_id');
    t.equal(res.next_batch, `s${rooms.stream}`);
  },
);

void t.test('incremental sync: only new events, no state, not limited', async (t) => {
  const { rooms, sync } = setup();
  rooms.createRoom(R, A, [B]);
  const first = await sync(A);
  rooms.message(R, B, 'hello');
  const res = await sync(A, { since: first.next_batch });
  const room: Json = res.rooms.join[R];
  t.same(bodies(room), ['hello']);
  t.equal(room.timeline.limited, false);
  t.same(room.state.events, []);
  t.notOk(room.summary, 'no summary when membership did not change');
  const quiet = await sync(A, { since: res.next_batch });
  t.same(quiet.rooms.join, {}, 'nothing new: the room is left out');
});

void t.test('gappy incremental sync: limited timeline carries the state changed in the gap', async (t) => {
  const { rooms, sync } = setup();
  rooms.createRoom(R, A, [B]);
  const first = await sync(A);
  rooms.message(R, B, 'gap1');
  rooms.send(R, B, 'm.room.topic', { topic: 'in the gap' }, '');
  rooms.member(R, C, 'join');
  for (let i = 0; i < 3; i++) rooms.message(R, B, `gap${i + 2}`);
  rooms.send(R, B, 'm.room.name', { name: 'in the timeline' }, '');
  rooms.message(R, B, 'last');
  const res = await sync(A, { since: first.next_batch, filter: { room: { timeline: { limit: 3 } } } });
  const room: Json = res.rooms.join[R];
  t.same(bodies(room), ['gap4', 'm.room.name', 'last']);
  t.equal(room.timeline.limited, true);
  t.same(
    stateTypes(room),
    ['m.room.member|@carol:x', 'm.room.topic|'],
    'state of the gap, not of the timeline',
  );
  t.same(room.summary['m.joined_member_count'], 3, 'a member change brings the summary');
});

void t.test('full_state gives the whole state even on an incremental sync', async (t) => {
  const { rooms, sync } = setup();
  rooms.createRoom(R, A, [B]);
  const first = await sync(A);
  rooms.message(R, B, 'x');
  const res = await sync(A, { since: first.next_batch, fullState: true });
  t.same(stateTypes(res.rooms.join[R]), ['m.room.create|', 'm.room.member|@alice:x', 'm.room.member|@bob:x']);
});

void t.test('leave then rejoin: the room moves to leave, then back to join with full state', async (t) => {
  const { rooms, sync } = setup();
  rooms.createRoom(R, B, [A]);
  const first = await sync(A);
  rooms.message(R, B, 'before leave');
  rooms.member(R, A, 'leave');
  rooms.message(R, B, 'while away');
  const left = await sync(A, { since: first.next_batch });
  t.same(Object.keys(left.rooms.join), []);
  const leaveRoom: Json = left.rooms.leave[R];
  t.same(bodies(leaveRoom), ['before leave', 'm.room.member'], 'timeline stops at the leave');
  const quiet = await sync(A, { since: left.next_batch });
  t.same(quiet.rooms.leave, {}, 'a left room is reported once');
  t.same(quiet.rooms.join, {}, "events after leaving don't reach the user");
  rooms.member(R, A, 'join');
  const back = await sync(A, { since: left.next_batch });
  const room: Json = back.rooms.join[R];
  t.ok(room, 'rejoined');
  t.ok(
    stateTypes(room).includes('m.room.create|') || bodies(room).includes('m.room.create'),
    'full state again',
  );
  t.ok(room.summary, 'summary for a rejoined room');
});

void t.test('leave and rejoin inside one window count as a new join', async (t) => {
  const { rooms, sync } = setup();
  rooms.createRoom(R, B, [A]);
  for (let i = 0; i < 12; i++) rooms.message(R, B, `m${i}`);
  const first = await sync(A);
  rooms.member(R, A, 'leave');
  rooms.member(R, A, 'join');
  const res = await sync(A, { since: first.next_batch, filter: { room: { timeline: { limit: 1 } } } });
  const room: Json = res.rooms.join[R];
  t.same(
    stateTypes(room).filter((s) => s.startsWith('m.room.create')),
    ['m.room.create|'],
    'full state',
  );
  t.same(res.rooms.leave, {});
});

void t.test('include_leave shows rooms left earlier on an initial sync only when asked', async (t) => {
  const { rooms, sync } = setup();
  rooms.createRoom(R, B, [A]);
  rooms.member(R, A, 'leave');
  t.same((await sync(A)).rooms.leave, {});
  const res = await sync(A, { filter: { room: { include_leave: true } } });
  t.ok(res.rooms.leave[R]);
});

void t.test("an ignored user's messages are hidden, their state events are not", async (t) => {
  const { rooms, sync } = setup({ ignored: { [A]: [C] } });
  rooms.createRoom(R, A, [B, C]);
  const first = await sync(A);
  rooms.message(R, C, 'from carol');
  rooms.message(R, B, 'from bob');
  rooms.send(R, C, 'm.room.topic', { topic: 'carol topic' }, '');
  const res = await sync(A, { since: first.next_batch });
  t.same(bodies(res.rooms.join[R]), ['from bob', 'm.room.topic']);
  const bobs = await sync(B, { since: first.next_batch });
  t.same(
    bodies(bobs.rooms.join[R]),
    ['from carol', 'from bob', 'm.room.topic'],
    'only for the ignoring user',
  );
});

void t.test('invites: invite_state with stripped state; none from an ignored inviter', async (t) => {
  const { rooms, sync } = setup({ ignored: { [C]: [B] } });
  rooms.createRoom(R, B);
  rooms.send(R, B, 'm.room.name', { name: 'Secret' }, '');
  const first = await sync(A);
  rooms.member(R, A, 'invite', B);
  rooms.member(R, C, 'invite', B);
  const res = await sync(A, { since: first.next_batch });
  const types = res.rooms.invite[R].invite_state.events.map((e: Json) => e.type).sort();
  t.same(types, ['m.room.create', 'm.room.member', 'm.room.name']);
  t.same(Object.keys(res.rooms.join), [], 'an invited room is not joined');
  const carol = await sync(C);
  t.same(carol.rooms.invite, {}, 'invite from an ignored user is not sent');
});

void t.test('lazy loading: only the senders of the timeline, then no redundant members', async (t) => {
  const { rooms, sync } = setup();
  rooms.createRoom(R, A, [B, C]);
  rooms.message(R, B, 'bob speaks');
  const lazy: SyncFilter = { room: { state: { lazy_load_members: true }, timeline: { limit: 1 } } };
  const first = await sync(A, { filter: lazy });
  t.same(stateTypes(first.rooms.join[R]), [
    'm.room.create|',
    'm.room.member|@alice:x',
    'm.room.member|@bob:x',
  ]);
  rooms.message(R, B, 'bob again');
  rooms.message(R, C, 'carol speaks');
  const inc = await sync(A, {
    since: first.next_batch,
    filter: { room: { state: { lazy_load_members: true } } },
  });
  t.same(stateTypes(inc.rooms.join[R]), ['m.room.member|@carol:x'], 'bob already sent, carol new');
  rooms.message(R, B, 'bob thrice');
  const redundant = await sync(A, {
    since: inc.next_batch,
    filter: { room: { state: { lazy_load_members: true, include_redundant_members: true } } },
  });
  t.same(stateTypes(redundant.rooms.join[R]), ['m.room.member|@bob:x'], 'include_redundant_members resends');
});

void t.test('timeline filters: types, not_senders, contains_url, rooms/not_rooms', async (t) => {
  const { rooms, sync } = setup();
  rooms.createRoom(R, A, [B]);
  rooms.createRoom('!other:x', A);
  const first = await sync(A);
  rooms.message(R, B, 'plain');
  rooms.message(R, B, 'image', { url: 'mxc://x/y' });
  rooms.message(R, A, 'mine');
  rooms.message('!other:x', A, 'elsewhere');
  const since = first.next_batch;
  const withUrl = await sync(A, { since, filter: { room: { timeline: { contains_url: true } } } });
  t.same(bodies(withUrl.rooms.join[R]), ['image']);
  const notB = await sync(A, { since, filter: { room: { timeline: { not_senders: [B] } } } });
  t.same(bodies(notB.rooms.join[R]), ['mine']);
  const onlyR = await sync(A, { since, filter: { room: { not_rooms: ['!other:x'] } } });
  t.same(Object.keys(onlyR.rooms.join), [R]);
  const only = await sync(A, { since, filter: { room: { rooms: ['!other:x'] } } });
  t.same(Object.keys(only.rooms.join), ['!other:x']);
  const types = await sync(A, { since, filter: { room: { timeline: { types: ['m.room.member'] } } } });
  t.same(types.rooms.join[R], undefined, 'no matching events: the room is left out');
});

void t.test('event_fields and event_format', async (t) => {
  const { rooms, sync } = setup();
  rooms.createRoom(R, A);
  const first = await sync(A);
  rooms.message(R, A, 'hi');
  const fields = await sync(A, {
    since: first.next_batch,
    filter: { event_fields: ['type', 'content.body'] },
  });
  t.same(fields.rooms.join[R].timeline.events, [{ type: 'm.room.message', content: { body: 'hi' } }]);
  const fed = await sync(A, { since: first.next_batch, filter: { event_format: 'federation' } });
  const ev = fed.rooms.join[R].timeline.events[0];
  t.ok('depth' in ev && 'prev_events' in ev, 'federation format is the PDU');
  t.equal(ev.room_id, R, 'the PDU keeps its room_id');
  const isPdu = (e: Json): boolean => 'depth' in e && 'hashes' in e;
  const initial = await sync(A, { filter: { event_format: 'federation', room: { timeline: { limit: 1 } } } });
  t.ok(initial.rooms.join[R].state.events.length > 0, 'initial state');
  t.ok(initial.rooms.join[R].state.events.every(isPdu), 'initial state in federation format');
  const client = await sync(A, { filter: { room: { timeline: { limit: 1 } } } });
  t.notOk(
    [...client.rooms.join[R].state.events, ...client.rooms.join[R].timeline.events].some(isPdu),
    'client format by default',
  );
  rooms.send(R, A, 'm.room.topic', { topic: 'gap' }, '');
  rooms.message(R, A, 'a');
  rooms.message(R, A, 'b');
  const gappy = await sync(A, {
    since: first.next_batch,
    filter: { event_format: 'federation', room: { timeline: { limit: 1 } } },
  });
  t.same(
    gappy.rooms.join[R].state.events.map((e: Json) => [e.type, isPdu(e)]),
    [['m.room.topic', true]],
    'the state of a gap in federation format',
  );
  const after = await sync(A, {
    since: first.next_batch,
    useStateAfter: true,
    filter: { event_format: 'federation', room: { timeline: { limit: 1 } } },
  });
  t.ok(after.rooms.join[R].state_after.events.every(isPdu), 'state_after in federation format');
});

void t.test('a long-poll returns as soon as a relevant change is published', async (t) => {
  const { rooms, notifier, sync } = setup();
  rooms.createRoom(R, A, [B]);
  const first = await sync(A);
  const started = Date.now();
  const poll = sync(A, { since: first.next_batch, timeoutMs: 10_000 });
  setTimeout(() => {
    const e = rooms.message(R, B, 'wake');
    notifier.publish({ stream: 'events', position: rooms.stream, roomIds: [e.room_id] });
  }, 30);
  const res = await poll;
  t.ok(Date.now() - started < 2000);
  t.same(bodies(res.rooms.join[R]), ['wake']);
});

void t.test('a long-poll ignores changes in rooms the user is not in', async (t) => {
  const { rooms, notifier, sync } = setup();
  rooms.createRoom(R, A);
  rooms.createRoom('!elsewhere:x', B);
  const first = await sync(A);
  const poll = sync(A, { since: first.next_batch, timeoutMs: 300 });
  setTimeout(() => {
    rooms.message('!elsewhere:x', B, 'not for alice');
    notifier.publish({ stream: 'events', position: rooms.stream, roomIds: ['!elsewhere:x'] });
  }, 30);
  const res = await poll;
  t.same(res.rooms.join, {});
  t.equal(res.next_batch, `s${rooms.stream}`, 'the token still moves past the unrelated event');
});

void t.test('feeds: ephemeral per room, account data, to-device position override, keys', async (t) => {
  const feeds: Partial<SyncFeeds> = {
    typingFeed: {
      stream: 'typing',
      currentPosition: async () => 7,
      changesFor: async (_u, w) => {
        const data: Record<string, SyncEventJson[]> = {};
        if (w.from < 7) data[R] = [{ type: 'm.typing', content: { user_ids: [B] } }];
        return { data };
      },
    },
    toDeviceFeed: {
      stream: 'to_device',
      currentPosition: async () => 500,
      changesFor: async () => ({
        data: { events: [{ type: 'm.x', sender: B, content: {} }] },
        position: 100,
      }),
    },
    keysFeed: {
      oneTimeKeyCounts: async () => ({ signed_curve25519: 3 }),
      unusedFallbackKeyTypes: async () => ['signed_curve25519'],
    },
    unreadCountsFeed: {
      countsFor: async (_u, ids) =>
        Object.fromEntries(ids.map((id) => [id, { main: { notification_count: 2, highlight_count: 1 } }])),
    },
  };
  const { rooms, sync } = setup({ feeds });
  rooms.createRoom(R, A, [B]);
  const first = await sync(A);
  t.same(first.rooms.join[R].ephemeral.events, [{ type: 'm.typing', content: { user_ids: [B] } }]);
  t.same(first.rooms.join[R].unread_notifications, { notification_count: 2, highlight_count: 1 });
  t.same(first.device_one_time_keys_count, { signed_curve25519: 3 });
  t.same(first.device_unused_fallback_key_types, ['signed_curve25519']);
  t.match(first.next_batch, /to_device\.100/, 'the feed stopped at 100, so the token records 100');
  t.match(first.next_batch, /typing\.7/);
  const second = await sync(A, { since: first.next_batch });
  t.same(second.rooms.join, {}, 'typing unchanged: no room');
});
