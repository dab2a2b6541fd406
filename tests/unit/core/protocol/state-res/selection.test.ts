/**
 * Which state resolution algorithm each room version uses (rooms/v1.md "State resolution"; rooms/v2.md
 * "Room version 2 uses the base components of room version 1, changing only the state resolution
 * algorithm"; rooms/v12.md's iteration of v2), and that `resolveState` follows the table.
 */
import t from 'tap';
import { stateKey } from '../../../../../core/protocol/pdu.js';
import { getRoomVersion } from '../../../../../core/protocol/room-versions.js';
import { resolveState } from '../../../../../core/protocol/state-res/resolve-state.js';
import { ALICE, BOB, RoomFixture, versions } from '../auth-rules/fixtures.js';

void t.test('room version 1 uses v1, 2–11 use v2, 12 uses v2.1', async (t) => {
  const table = Object.fromEntries(versions(1).map((v) => [v, getRoomVersion(v)!.stateRes]));
  t.same(table, {
    '1': 'v1',
    '2': 'v2',
    '3': 'v2',
    '4': 'v2',
    '5': 'v2',
    '6': 'v2',
    '7': 'v2',
    '8': 'v2',
    '9': 'v2',
    '10': 'v2',
    '11': 'v2',
    '12': 'v2.1',
  });
});

void t.test('resolveState follows the table: the spec soft-failure example in every version', async (t) => {
  // server-server-api.md "Soft failure": the original algorithm keeps the banned user's topic, later
  // versions prioritise the ban.
  const TOPIC = stateKey('m.room.topic', '');
  for (const v of versions(1)) {
    const room = RoomFixture.standard(v, { [BOB]: 50 }, [BOB]);
    const afterBan = room.fork();
    const afterTopic = room.fork();
    afterBan.send({ type: 'm.room.member', sender: ALICE, stateKey: BOB, content: { membership: 'ban' } });
    const topic = afterTopic.send({
      type: 'm.room.topic',
      sender: BOB,
      stateKey: '',
      content: { topic: 'evading' },
    });
    const state = await resolveState(v, [afterBan.stateMap(), afterTopic.stateMap()], room.loader());
    t.equal(state.get(TOPIC) === topic.eventId, v === '1', `v${v}`);
    const member = room.event(state.get(stateKey('m.room.member', BOB))!);
    t.equal(member.pdu.content['membership'], 'ban', `v${v} the ban stands`);
  }
});
