import t from 'tap';
import {
  checkAuthEventsList,
  checkEventAgainstAuthEvents,
} from '../../../../../core/protocol/auth-rules/auth-events-rules.js';
import type { AuthEvent } from '../../../../../core/protocol/auth-rules/types.js';
import { ALICE, BOB, RoomFixture, verdict } from './fixtures.js';

function authEventsOf(room: RoomFixture, e: AuthEvent): AuthEvent[] {
  return e.pdu.auth_events.map((r) => room.event(typeof r === 'string' ? r : r[0]));
}

void t.test('an event citing exactly its selected auth events passes, in every version', async (t) => {
  for (const v of ['1', '3', '10', '12']) {
    const room = RoomFixture.standard(v, {}, [BOB]);
    const e = room.build({ type: 'm.room.message', sender: BOB, content: {} });
    const create = room.state.get(`m.room.create\u0000`);
    t.equal(verdict(checkAuthEventsList(e, authEventsOf(room, e), v)), 'allowed', `v${v}`);
    t.equal(
      verdict(checkEventAgainstAuthEvents(e, authEventsOf(room, e), v, { createEvent: create })),
      'allowed',
      `v${v}`,
    );
  }
});

void t.test('duplicate (type, state_key) entries are rejected', async (t) => {
  const room = RoomFixture.standard('10', {}, [BOB]);
  const oldPl = room.state.get(`m.room.power_levels\u0000`)!;
  room.send({
    type: 'm.room.power_levels',
    sender: ALICE,
    stateKey: '',
    content: { users: { [ALICE]: 100 } },
  });
  const e = room.build({ type: 'm.room.message', sender: BOB, content: {} });
  const auth = [...e.pdu.auth_events, oldPl.eventId];
  const withDup = { ...e, pdu: { ...e.pdu, auth_events: auth } };
  t.equal(
    verdict(
      checkAuthEventsList(
        withDup,
        auth.map((id) => room.event(id as string)),
        '10',
      ),
    ),
    'auth_events.duplicate',
  );
});

void t.test('entries the selection does not allow are rejected', async (t) => {
  const room = RoomFixture.standard('10', {}, [BOB]);
  const jr = room.state.get(`m.room.join_rules\u0000`)!;
  const e = room.build({ type: 'm.room.message', sender: BOB, content: {} });
  const auth = [...e.pdu.auth_events, jr.eventId];
  const bad = { ...e, pdu: { ...e.pdu, auth_events: auth } };
  t.equal(
    verdict(
      checkAuthEventsList(
        bad,
        auth.map((id) => room.event(id as string)),
        '10',
      ),
    ),
    'auth_events.unexpected',
  );
});

void t.test('v12: citing the create event is rejected', async (t) => {
  const room = RoomFixture.standard('12', {}, [BOB]);
  const e = room.build({ type: 'm.room.message', sender: BOB, content: {} });
  const auth = [...e.pdu.auth_events, '$createhash'];
  const bad = { ...e, pdu: { ...e.pdu, auth_events: auth } };
  t.equal(
    verdict(
      checkAuthEventsList(
        bad,
        auth.map((id) => room.event(id as string)),
        '12',
      ),
    ),
    'auth_events.unexpected',
  );
});

void t.test('rejected auth events are rejected', async (t) => {
  const room = RoomFixture.standard('10', {}, [BOB]);
  const e = room.build({ type: 'm.room.message', sender: BOB, content: {} });
  const auth = authEventsOf(room, e).map((a) =>
    a.pdu.type === 'm.room.power_levels' ? { ...a, rejected: true } : a,
  );
  t.equal(verdict(checkAuthEventsList(e, auth, '10')), 'auth_events.rejected');
});

void t.test('v1–11: the create event must be cited', async (t) => {
  const room = RoomFixture.standard('10', {}, [BOB]);
  const e = room.build({ type: 'm.room.message', sender: BOB, content: {} });
  const auth = e.pdu.auth_events.filter((id) => room.event(id as string).pdu.type !== 'm.room.create');
  const bad = { ...e, pdu: { ...e.pdu, auth_events: auth } };
  t.equal(
    verdict(
      checkAuthEventsList(
        bad,
        auth.map((id) => room.event(id as string)),
        '10',
      ),
    ),
    'auth_events.no_create',
  );
});

void t.test('auth events from another room are rejected', async (t) => {
  const room = RoomFixture.standard('10', {}, [BOB]);
  const e = room.build({ type: 'm.room.message', sender: BOB, content: {} });
  const auth = authEventsOf(room, e).map((a) =>
    a.pdu.type === 'm.room.member' ? { ...a, pdu: { ...a.pdu, room_id: '!other:a.test' } } : a,
  );
  t.equal(verdict(checkAuthEventsList(e, auth, '10')), 'auth_events.room_id');
});

void t.test('auth events that are not available are rejected', async (t) => {
  const room = RoomFixture.standard('10', {}, [BOB]);
  const e = room.build({ type: 'm.room.message', sender: BOB, content: {} });
  t.equal(verdict(checkAuthEventsList(e, authEventsOf(room, e).slice(1), '10')), 'auth_events.missing');
});

void t.test('checkEventAgainstAuthEvents applies the other rules over the auth events', async (t) => {
  const room = RoomFixture.standard('10', {}, [BOB]);
  const e = room.build({ type: 'm.room.topic', sender: BOB, stateKey: '', content: {} });
  t.equal(verdict(checkEventAgainstAuthEvents(e, authEventsOf(room, e), '10')), 'power.event');
  // Extra events passed in but not cited play no part.
  const msg = room.build({ type: 'm.room.message', sender: BOB, content: {} });
  const extra = room.state.get(`m.room.join_rules\u0000`)!;
  t.equal(verdict(checkEventAgainstAuthEvents(msg, [...authEventsOf(room, msg), extra], '10')), 'allowed');
});
