import t from 'tap';
import type { JsonObject } from '../../../../../core/protocol/pdu.js';
import { ALICE, BOB, CHARLIE, RoomFixture, verdict, versions } from './fixtures.js';

const pl = (room: RoomFixture, sender: string, content: JsonObject) =>
  room.check(room.build({ type: 'm.room.power_levels', sender, stateKey: '', content }));

void t.test('users must map valid user ids to integers', async (t) => {
  for (const v of versions(1)) {
    const room = RoomFixture.standard(v);
    const base: JsonObject = room.version.privilegedCreators ? {} : { [ALICE]: 100 };
    t.equal(verdict(pl(room, ALICE, { users: { ...base, [BOB]: 50 } })), 'allowed', `v${v}`);
    t.equal(verdict(pl(room, ALICE, { users: { ...base, bob: 50 } })), 'power_levels.users', `v${v} bad id`);
    t.equal(
      verdict(pl(room, ALICE, { users: { ...base, [BOB]: 'lots' } })),
      'power_levels.users',
      `v${v} bad level`,
    );
    t.equal(verdict(pl(room, ALICE, { users: [] })), 'power_levels.users', `v${v} not an object`);
  }
});

void t.test('v1–9 accept integer strings; v10+ accept only integers', async (t) => {
  for (const v of versions(1)) {
    const room = RoomFixture.standard(v);
    const base: JsonObject = room.version.privilegedCreators ? {} : { [ALICE]: 100 };
    const expected = Number(v) <= 9 ? 'allowed' : 'power_levels.integer';
    t.equal(verdict(pl(room, ALICE, { users: base, ban: ' +50 ' })), expected, `v${v} ban`);
    t.equal(
      verdict(pl(room, ALICE, { users: base, events: { 'm.room.name': '50' } })),
      expected,
      `v${v} events`,
    );
    t.equal(
      verdict(pl(room, ALICE, { users: { ...base, [BOB]: '050' } })),
      Number(v) <= 9 ? 'allowed' : 'power_levels.users',
      `v${v} users`,
    );
  }
});

void t.test('v10+: events and notifications must be objects of integers', async (t) => {
  for (const v of versions(10)) {
    const room = RoomFixture.standard(v);
    const base: JsonObject = room.version.privilegedCreators ? {} : { [ALICE]: 100 };
    t.equal(verdict(pl(room, ALICE, { users: base, notifications: { room: 50 } })), 'allowed', `v${v}`);
    t.equal(verdict(pl(room, ALICE, { users: base, notifications: 50 })), 'power_levels.integer', `v${v}`);
    t.equal(verdict(pl(room, ALICE, { users: base, events: { x: 1.5 } })), 'power_levels.integer', `v${v}`);
  }
});

void t.test('v1–5 accept floats (truncated); v6+ do not', async (t) => {
  for (const v of versions(1)) {
    const room = RoomFixture.standard(v);
    const base: JsonObject = room.version.privilegedCreators ? {} : { [ALICE]: 100 };
    const expected = Number(v) <= 5 ? 'allowed' : 'power_levels.users';
    t.equal(verdict(pl(room, ALICE, { users: { ...base, [BOB]: 50.57 } })), expected, `v${v}`);
  }
});

void t.test('the first power levels event may set anything', async (t) => {
  const room = RoomFixture.create('10');
  room.join(ALICE);
  t.equal(verdict(pl(room, ALICE, { users: { [ALICE]: 1000 }, ban: 500 })), 'allowed');
});

void t.test('top-level levels: neither the current nor the new value may exceed the sender', async (t) => {
  const room = RoomFixture.standard('10', { [BOB]: 50 }, [BOB]);
  const users = { [ALICE]: 100, [BOB]: 50 };
  room.send({
    type: 'm.room.power_levels',
    sender: ALICE,
    stateKey: '',
    content: { users, kick: 40, ban: 80 },
  });
  t.equal(verdict(pl(room, BOB, { users, kick: 50, ban: 80 })), 'allowed', 'raise kick to own level');
  const up = pl(room, BOB, { users, kick: 60, ban: 80 });
  t.equal(verdict(up), 'power_levels.change_new');
  t.match(!up.allowed && up.reason, /setting kick to 60 needs power level 60, the sender has 50/);
  t.equal(
    verdict(pl(room, BOB, { users, kick: 40, ban: 10 })),
    'power_levels.change_current',
    'lower ban from 80',
  );
  t.equal(verdict(pl(room, BOB, { users, kick: 40 })), 'power_levels.change_current', 'remove ban 80');
  t.equal(
    verdict(pl(room, BOB, { users, kick: 40, ban: 80, invite: 50 })),
    'allowed',
    'add invite at own level',
  );
  t.equal(
    verdict(pl(room, BOB, { users, kick: 40, ban: 80, redact: 51 })),
    'power_levels.change_new',
    'add redact',
  );
});

void t.test('events: entries above the sender cannot be added, changed or removed', async (t) => {
  const room = RoomFixture.standard('10', { [BOB]: 50 }, [BOB]);
  const users = { [ALICE]: 100, [BOB]: 50 };
  room.send({
    type: 'm.room.power_levels',
    sender: ALICE,
    stateKey: '',
    content: { users, events: { 'm.room.tombstone': 100, 'm.room.name': 50 } },
  });
  const events = (e: JsonObject) => pl(room, BOB, { users, events: e });
  t.equal(
    verdict(events({ 'm.room.tombstone': 100, 'm.room.name': 10 })),
    'allowed',
    'lower own-level entry',
  );
  t.equal(
    verdict(events({ 'm.room.tombstone': 50, 'm.room.name': 50 })),
    'power_levels.change_current',
    'lower 100',
  );
  t.equal(verdict(events({ 'm.room.name': 50 })), 'power_levels.change_current', 'remove 100');
  t.equal(
    verdict(events({ 'm.room.tombstone': 100, 'm.room.name': 50, x: 70 })),
    'power_levels.change_new',
    'add 70',
  );
});

void t.test('v6+: notifications are policed like events; v1–5 ignore them', async (t) => {
  for (const v of versions(1, 11)) {
    const room = RoomFixture.standard(v, { [BOB]: 50 }, [BOB]);
    const users = { [ALICE]: 100, [BOB]: 50 };
    room.send({
      type: 'm.room.power_levels',
      sender: ALICE,
      stateKey: '',
      content: { users, notifications: { room: 80 } },
    });
    const expected = Number(v) >= 6 ? 'power_levels.change_current' : 'allowed';
    t.equal(verdict(pl(room, BOB, { users, notifications: { room: 20 } })), expected, `v${v}`);
  }
});

void t.test(
  'users: others at or above the sender cannot be changed; the sender may lower themselves',
  async (t) => {
    const room = RoomFixture.standard('10', { [BOB]: 50, [CHARLIE]: 50 }, [BOB, CHARLIE]);
    const users = { [ALICE]: 100, [BOB]: 50, [CHARLIE]: 50 };
    const peer = pl(room, BOB, { users: { ...users, [CHARLIE]: 0 } });
    t.equal(verdict(peer), 'power_levels.change_current', 'demote a peer');
    t.match(
      !peer.allowed && peer.reason,
      /users\.@charlie:c\.test \(currently 50\) needs power level above 50/,
    );
    t.equal(verdict(pl(room, BOB, { users: { ...users, [BOB]: 10 } })), 'allowed', 'demote self');
    t.equal(
      verdict(pl(room, BOB, { users: { ...users, '@zara:z.test': 50 } })),
      'allowed',
      'promote to own level',
    );
    t.equal(
      verdict(pl(room, BOB, { users: { ...users, '@zara:z.test': 51 } })),
      'power_levels.change_new',
      'above own',
    );
    t.equal(
      verdict(pl(room, BOB, { users: { [ALICE]: 100, [BOB]: 50 } })),
      'power_levels.change_current',
      'remove peer',
    );
  },
);

void t.test('v12: creators may not appear in users, and have unlimited power', async (t) => {
  const room = RoomFixture.create('12', ALICE, { additional_creators: [BOB] });
  room.join(ALICE);
  t.equal(
    verdict(pl(room, ALICE, { users: { [ALICE]: 100 } })),
    'power_levels.creator_in_users',
    'the sender creator',
  );
  t.equal(
    verdict(pl(room, ALICE, { users: { [BOB]: 100 } })),
    'power_levels.creator_in_users',
    'an additional creator',
  );
  room.send({
    type: 'm.room.power_levels',
    sender: ALICE,
    stateKey: '',
    content: { users: { [CHARLIE]: 9000 }, ban: 9000 },
  });
  t.equal(
    verdict(pl(room, ALICE, { users: { [CHARLIE]: 0 }, ban: 1 })),
    'allowed',
    'a creator outranks any level',
  );
  // Before v12 the creator is an ordinary user once power levels exist.
  const v11 = RoomFixture.standard('11');
  t.equal(verdict(pl(v11, ALICE, { users: { [ALICE]: 100 } })), 'allowed');
});
