import t from 'tap';
import { checkEventAuth } from '../../../../../core/protocol/auth-rules/check-event-auth.js';
import { ALICE, BOB, RoomFixture, verdict, versions } from './fixtures.js';

const noState = () => undefined;

void t.test('a well-formed create event is allowed in every room version', async (t) => {
  for (const v of versions(1)) {
    const room = RoomFixture.create(v);
    const create = room.state.get(`m.room.create\u0000`)!;
    t.equal(verdict(checkEventAuth(create, noState, v)), 'allowed', `v${v}`);
  }
});

void t.test('a create event with prev_events is rejected', async (t) => {
  for (const v of versions(1)) {
    const room = RoomFixture.create(v);
    const e = room.build({
      type: 'm.room.create',
      sender: ALICE,
      stateKey: '',
      content: { creator: ALICE },
      prev: ['$x:a.test'],
    });
    t.equal(verdict(checkEventAuth(e, noState, v)), 'create.prev_events', `v${v}`);
  }
});

void t.test("v1–11: the room id's domain must match the sender's", async (t) => {
  for (const v of versions(1, 11)) {
    const room = RoomFixture.create(v);
    const e = room.build({
      type: 'm.room.create',
      sender: BOB,
      stateKey: '',
      content: { creator: BOB },
      prev: [],
    });
    t.equal(verdict(checkEventAuth(e, noState, v)), 'create.room_id_domain', `v${v}`);
  }
});

void t.test('an unrecognised content.room_version is rejected', async (t) => {
  for (const v of versions(1)) {
    const create = RoomFixture.create(v).state.get(`m.room.create\u0000`)!;
    const pdu = { ...create.pdu, content: { ...create.pdu.content, room_version: '999' } };
    t.equal(
      verdict(checkEventAuth({ eventId: create.eventId, pdu }, noState, v)),
      'create.room_version',
      `v${v}`,
    );
  }
});

void t.test('v1–10 require content.creator; v11+ do not', async (t) => {
  for (const v of versions(1)) {
    const room = RoomFixture.create(v);
    const pdu = { ...room.state.get(`m.room.create\u0000`)!.pdu, content: { room_version: v } };
    const expected = Number(v) <= 10 ? 'create.creator' : 'allowed';
    t.equal(verdict(checkEventAuth({ eventId: '$c', pdu }, noState, v)), expected, `v${v}`);
  }
});

void t.test('v12: a create event with a room_id is rejected', async (t) => {
  const room = RoomFixture.create('12');
  const pdu = { ...room.state.get(`m.room.create\u0000`)!.pdu, room_id: '!createhash' };
  t.equal(verdict(checkEventAuth({ eventId: '$createhash', pdu }, noState, '12')), 'create.room_id');
});

void t.test('v12: additional_creators must be an array of valid user ids', async (t) => {
  const room = RoomFixture.create('12');
  const base = room.state.get(`m.room.create\u0000`)!.pdu;
  const check = (additional: unknown) =>
    verdict(
      checkEventAuth(
        {
          eventId: '$c',
          pdu: { ...base, content: { room_version: '12', additional_creators: additional as string[] } },
        },
        noState,
        '12',
      ),
    );
  t.equal(check([BOB, '@carol:c.test']), 'allowed');
  t.equal(check([]), 'allowed');
  t.equal(check(BOB), 'create.additional_creators', 'not an array');
  t.equal(check(['bob']), 'create.additional_creators', 'no sigil');
  t.equal(check(['@bob']), 'create.additional_creators', 'no server name');
  t.equal(check([42]), 'create.additional_creators', 'not a string');
});

void t.test("v12: an event's room_id must name an accepted create event", async (t) => {
  const room = RoomFixture.create('12');
  room.join(ALICE);
  const msg = room.build({ type: 'm.room.message', sender: ALICE, content: { body: 'hi' } });
  t.equal(verdict(room.check(msg)), 'allowed');

  const elsewhere = room.build({
    type: 'm.room.message',
    sender: ALICE,
    content: {},
    extra: { room_id: '!otherhash' },
  });
  t.equal(verdict(room.check(elsewhere)), 'room_id.create');

  const create = room.state.get(`m.room.create\u0000`)!;
  const rejectedCreate = { ...create, rejected: true };
  const lookup = (type: string, key: string) =>
    type === 'm.room.create' ? rejectedCreate : room.lookup()(type, key);
  t.equal(verdict(checkEventAuth(msg, lookup, '12')), 'room_id.create_rejected');
});

void t.test('non-create events need a create event in the state they are checked against', async (t) => {
  const room = RoomFixture.standard('10');
  const msg = room.build({ type: 'm.room.message', sender: ALICE, content: {} });
  const lookup = (type: string, key: string) =>
    type === 'm.room.create' ? undefined : room.lookup()(type, key);
  t.equal(verdict(checkEventAuth(msg, lookup, '10')), 'auth_events.no_create');
});
