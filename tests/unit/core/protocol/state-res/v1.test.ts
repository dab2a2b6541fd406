/**
 * State resolution for room version 1 (rooms/v1.md): power levels, then join rules, then members
 * are resolved by ascending depth while each next event passes auth; other keys take the deepest
 * event (lowest sha1 of the id on ties) that passes auth.
 */
import { createHash } from 'node:crypto';
import t from 'tap';
import { stateKey } from '../../../../../core/protocol/pdu.js';
import { resolveState } from '../../../../../core/protocol/state-res/resolve-state.js';
import { ALICE, BOB, CHARLIE, RoomFixture } from '../auth-rules/fixtures.js';

const PL = stateKey('m.room.power_levels', '');
const TOPIC = stateKey('m.room.topic', '');
const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');

void t.test('a key held by only some state sets is not a conflict in v1 (it is in v2)', async (t) => {
  const room = RoomFixture.standard('1', {}, [BOB]);
  const a = room.fork();
  const b = room.fork();
  // bob sets a topic he is not allowed to set: forced into one branch's state without checks.
  const topic = a.build({ type: 'm.room.topic', sender: BOB, stateKey: '', content: { topic: 'x' } });
  a.apply(topic);
  b.send({ type: 'm.room.name', sender: ALICE, stateKey: '', content: { name: 'n' } });
  const v1 = await resolveState('1', [a.stateMap(), b.stateMap()], room.loader());
  t.equal(v1.get(TOPIC), topic.eventId, 'v1 keeps it unchecked');
  const v2 = await resolveState('2', [a.stateMap(), b.stateMap()], room.loader());
  t.equal(v2.get(TOPIC), undefined, 'v2 treats it as conflicted and it fails auth');
});

void t.test('power levels: the deeper event wins when it passes auth after the shallower one', async (t) => {
  const room = RoomFixture.standard('1', { [BOB]: 50 }, [BOB]);
  const a = room.fork();
  const b = room.fork();
  a.send({
    type: 'm.room.power_levels',
    sender: ALICE,
    stateKey: '',
    content: { users: { [ALICE]: 100, [BOB]: 10 } },
  });
  b.send({ type: 'm.room.name', sender: BOB, stateKey: '', content: {} });
  const deep = b.send({
    type: 'm.room.power_levels',
    sender: ALICE,
    stateKey: '',
    content: { users: { [ALICE]: 100, [BOB]: 20 } },
  });
  const state = await resolveState('1', [a.stateMap(), b.stateMap()], room.loader());
  t.equal(state.get(PL), deep.eventId);
});

void t.test('power levels: resolution stops at the first event that fails auth', async (t) => {
  const room = RoomFixture.standard('1', { [BOB]: 50 }, [BOB]);
  const a = room.fork();
  const b = room.fork();
  // Shallow: alice demotes bob to 0. Deep: bob (50 when he sent it) grants charlie 50, which fails
  // once alice's demotion is in the state, so alice's stays.
  const demote = a.send({
    type: 'm.room.power_levels',
    sender: ALICE,
    stateKey: '',
    content: { users: { [ALICE]: 100 } },
  });
  b.send({ type: 'm.room.name', sender: BOB, stateKey: '', content: {} });
  b.send({
    type: 'm.room.power_levels',
    sender: BOB,
    stateKey: '',
    content: { users: { [ALICE]: 100, [BOB]: 50, [CHARLIE]: 50 } },
  });
  const state = await resolveState('1', [a.stateMap(), b.stateMap()], room.loader());
  t.equal(state.get(PL), demote.eventId);
});

void t.test('members are resolved after power levels and join rules', async (t) => {
  const room = RoomFixture.standard('1', { [BOB]: 50 }, [BOB, CHARLIE]);
  const a = room.fork();
  const b = room.fork();
  // a: alice demotes bob. b: bob kicks charlie. The kick fails against the resolved power levels.
  const demote = a.send({
    type: 'm.room.power_levels',
    sender: ALICE,
    stateKey: '',
    content: { users: { [ALICE]: 100 } },
  });
  const charlieJoin = room.state.get(stateKey('m.room.member', CHARLIE))!;
  b.send({ type: 'm.room.member', sender: BOB, stateKey: CHARLIE, content: { membership: 'leave' } });
  const state = await resolveState('1', [a.stateMap(), b.stateMap()], room.loader());
  t.equal(state.get(PL), demote.eventId);
  // Members: ascending depth, first one is taken, then the kick is checked against bob at 0 and fails.
  t.equal(state.get(stateKey('m.room.member', CHARLIE)), charlieJoin.eventId);
});

void t.test('other keys: the deepest event that passes auth', async (t) => {
  const room = RoomFixture.standard('1', { [BOB]: 50 }, [BOB]);
  const a = room.fork();
  const b = room.fork();
  const shallow = a.send({ type: 'm.room.topic', sender: ALICE, stateKey: '', content: { topic: 'a' } });
  b.send({ type: 'm.room.name', sender: BOB, stateKey: '', content: {} });
  const deep = b.send({ type: 'm.room.topic', sender: BOB, stateKey: '', content: { topic: 'b' } });
  t.equal((await resolveState('1', [a.stateMap(), b.stateMap()], room.loader())).get(TOPIC), deep.eventId);

  // With bob demoted in the resolved state, his deeper topic fails and alice's is taken.
  const c = room.fork();
  c.send({ type: 'm.room.power_levels', sender: ALICE, stateKey: '', content: { users: { [ALICE]: 100 } } });
  c.send({ type: 'm.room.topic', sender: ALICE, stateKey: '', content: { topic: 'c' } });
  const withDemotion = new Map(c.stateMap()).set(TOPIC, shallow.eventId);
  const state = await resolveState('1', [withDemotion, b.stateMap()], room.loader());
  t.equal(state.get(TOPIC), shallow.eventId);
});

void t.test('other keys: equal depth goes to the lowest sha1(event_id)', async (t) => {
  const room = RoomFixture.standard('1');
  const a = room.fork();
  const b = room.fork();
  a.send({ type: 'm.room.topic', sender: ALICE, stateKey: '', content: { topic: 'a' }, id: '$one:a.test' });
  b.send({ type: 'm.room.topic', sender: ALICE, stateKey: '', content: { topic: 'b' }, id: '$two:a.test' });
  const expected = sha1('$one:a.test') < sha1('$two:a.test') ? '$one:a.test' : '$two:a.test';
  const state = await resolveState('1', [a.stateMap(), b.stateMap()], room.loader());
  t.equal(state.get(TOPIC), expected);
});

void t.test(
  'the spec soft-failure example: v1 keeps the ban-evading topic, v2 prioritises the ban',
  async (t) => {
    // server-server-api.md "Soft failure": A; B bans X; C is X's topic sent on A. Resolving the states
    // after B and after C: "In the original version of the algorithm C would be in the resolved
    // state, whereas in latter versions the algorithm tries to prioritise the ban over the topic change."
    for (const [v, expectC] of [
      ['1', true],
      ['2', false],
      ['10', false],
    ] as const) {
      const room = RoomFixture.standard(v, { [BOB]: 50 }, [BOB]);
      const afterB = room.fork();
      const afterC = room.fork();
      afterB.send({ type: 'm.room.member', sender: ALICE, stateKey: BOB, content: { membership: 'ban' } });
      const c = afterC.send({
        type: 'm.room.topic',
        sender: BOB,
        stateKey: '',
        content: { topic: 'evading' },
      });
      const state = await resolveState(v, [afterB.stateMap(), afterC.stateMap()], room.loader());
      t.equal(state.get(TOPIC) === c.eventId, expectC, `v${v}`);
      t.equal(
        room.event(state.get(stateKey('m.room.member', BOB))!).pdu.content['membership'],
        'ban',
        `v${v} ban`,
      );
    }
  },
);
