import t from 'tap';
import {
  notificationPowerLevel,
  parsePowerLevelValue,
  powerLevelsFromContent,
  requiredPowerForEvent,
  userPowerLevel,
} from '../../../../../core/protocol/power-levels.js';
import { getRoomVersion, type RoomVersion } from '../../../../../core/protocol/room-versions.js';
import { ALICE, BOB, CHARLIE, RoomFixture } from './fixtures.js';

const v = (id: string): RoomVersion => getRoomVersion(id)!;

void t.test('stringy power levels (v1–9): the forms the spec lists', async (t) => {
  // Examples from rooms/fragments/v1-stringy-power-levels.md.
  for (const [s, n] of [
    ['100', 100],
    ['000100', 100],
    ['+100', 100],
    ['-100', -100],
    [' 100 ', 100],
    [' 00100 ', 100],
    [' +100 ', 100],
    [' -100 ', -100],
  ] as const) {
    t.equal(parsePowerLevelValue(s, v('9')), n, JSON.stringify(s));
  }
  for (const bad of ['1.5', '1e2', '', '+-1', '10a', '0x10']) {
    t.equal(parsePowerLevelValue(bad, v('9')), undefined, JSON.stringify(bad));
  }
});

void t.test('v10+: only integers', async (t) => {
  t.equal(parsePowerLevelValue('100', v('10')), undefined);
  t.equal(parsePowerLevelValue(100, v('10')), 100);
  t.equal(parsePowerLevelValue(1.5, v('10')), undefined);
});

void t.test('floaty power levels (v1–5): truncated; non-finite values rejected', async (t) => {
  // Example from rooms/fragments/v1-floaty-power-levels.md: 50.57 and 50 are the same level.
  t.equal(parsePowerLevelValue(50.57, v('5')), 50);
  t.equal(parsePowerLevelValue(5.114698e4, v('1')), 51146);
  t.equal(parsePowerLevelValue(-2.5, v('1')), -2);
  t.equal(parsePowerLevelValue(Infinity, v('1')), undefined);
  t.equal(parsePowerLevelValue(Number.NaN, v('1')), undefined);
  t.equal(parsePowerLevelValue(50.57, v('6')), undefined, 'v6 canonical JSON has no floats');
});

void t.test('defaults apply to absent or unparseable values', async (t) => {
  const levels = powerLevelsFromContent({ ban: 'many', users: { [BOB]: 10 } }, v('10'));
  t.same(
    {
      usersDefault: levels.usersDefault,
      eventsDefault: levels.eventsDefault,
      stateDefault: levels.stateDefault,
      ban: levels.ban,
      kick: levels.kick,
      redact: levels.redact,
      invite: levels.invite,
    },
    { usersDefault: 0, eventsDefault: 0, stateDefault: 50, ban: 50, kick: 50, redact: 50, invite: 0 },
  );
  t.equal(notificationPowerLevel(levels, 'room'), 50);
  t.equal(requiredPowerForEvent(levels, 'm.room.topic', true), 50);
  t.equal(requiredPowerForEvent(levels, 'm.room.message', false), 0);
  const custom = powerLevelsFromContent(
    { events: { 'm.room.message': 5 }, state_default: 20, notifications: { room: 7 } },
    v('10'),
  );
  t.equal(requiredPowerForEvent(custom, 'm.room.message', false), 5);
  t.equal(requiredPowerForEvent(custom, 'm.room.name', true), 20);
  t.equal(notificationPowerLevel(custom, 'room'), 7);
});

void t.test('userPowerLevel: users entry, users_default, creator without power levels', async (t) => {
  const room = RoomFixture.create('10');
  room.join(ALICE);
  t.equal(userPowerLevel(room.lookup(), ALICE, room.version), 100, 'creator before power levels');
  t.equal(userPowerLevel(room.lookup(), BOB, room.version), 0);
  room.send({
    type: 'm.room.power_levels',
    sender: ALICE,
    stateKey: '',
    content: { users: { [BOB]: 20 }, users_default: 3 },
  });
  t.equal(userPowerLevel(room.lookup(), BOB, room.version), 20);
  t.equal(userPowerLevel(room.lookup(), CHARLIE, room.version), 3);
  t.equal(
    userPowerLevel(room.lookup(), ALICE, room.version),
    3,
    'the creator is ordinary once power levels exist',
  );
});

void t.test('userPowerLevel v12: creators (sender and additional_creators) are infinite', async (t) => {
  const room = RoomFixture.create('12', ALICE, { additional_creators: [BOB] });
  room.join(ALICE);
  room.send({
    type: 'm.room.power_levels',
    sender: ALICE,
    stateKey: '',
    content: { users: { [CHARLIE]: 100 } },
  });
  t.equal(userPowerLevel(room.lookup(), ALICE, room.version), Infinity);
  t.equal(userPowerLevel(room.lookup(), BOB, room.version), Infinity);
  t.equal(userPowerLevel(room.lookup(), CHARLIE, room.version), 100);
});
