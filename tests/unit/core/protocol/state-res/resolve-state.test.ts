import t from 'tap';
import type { AuthEvent } from '../../../../../core/protocol/auth-rules/types.js';
import { stateKey } from '../../../../../core/protocol/pdu.js';
import { resolveState } from '../../../../../core/protocol/state-res/resolve-state.js';
import { ALICE, BOB, RoomFixture } from '../auth-rules/fixtures.js';

const TOPIC = stateKey('m.room.topic', '');

void t.test('no sets, one set, or agreeing sets need no loading', async (t) => {
  const room = RoomFixture.standard('10', {}, [BOB]);
  const loader = room.loader();
  t.same(await resolveState('10', [], loader), new Map());
  t.same(await resolveState('10', [room.stateMap()], loader), room.stateMap());
  t.same(await resolveState('10', [room.stateMap(), room.stateMap()], loader), room.stateMap());
  t.equal(loader.loads, 0);
});

void t.test('an unknown room version is an error', async (t) => {
  const room = RoomFixture.standard('10');
  await t.rejects(
    resolveState('999', [room.stateMap(), room.stateMap()], room.loader()),
    /unknown room version/,
  );
});

void t.test('events the store does not have are left out', async (t) => {
  const room = RoomFixture.standard('10', { [BOB]: 50 }, [BOB]);
  const a = room.fork();
  const kept = a.send({ type: 'm.room.topic', sender: ALICE, stateKey: '', content: { topic: 'a' } });
  const b = new Map(room.stateMap()).set(TOPIC, '$missing:x.test');
  const state = await resolveState('10', [a.stateMap(), b], room.loader());
  t.equal(state.get(TOPIC), kept.eventId);
});

void t.test('a store-provided auth chain difference is used instead of walking chains', async (t) => {
  const room = RoomFixture.standard('10', { [BOB]: 50 }, [BOB]);
  const a = room.fork();
  const b = room.fork();
  a.send({ type: 'm.room.topic', sender: ALICE, stateKey: '', content: { topic: 'a' } });
  const bt = b.send({ type: 'm.room.topic', sender: BOB, stateKey: '', content: { topic: 'b' } });
  const base = room.loader();
  let asked = 0;
  const loader = {
    loadEvents: (ids: readonly string[]) => base.loadEvents(ids),
    authChainDifference: async (sets: readonly (readonly string[])[]) => {
      asked = sets.length;
      return new Set<string>();
    },
  };
  const state = await resolveState('10', [a.stateMap(), b.stateMap()], loader);
  t.equal(asked, 2);
  t.equal(state.get(TOPIC), bt.eventId, 'same answer as the walked difference');
});

void t.test('events rejected on receipt still take part, but are not used as auth events', async (t) => {
  const room = RoomFixture.standard('10', { [BOB]: 50 }, [BOB]);
  const a = room.fork();
  const b = room.fork();
  // A topic that was rejected on receipt (say, against the state at it) but passes against the
  // resolved state is accepted, as the spec requires.
  const rejectedTopic = a.build({
    type: 'm.room.topic',
    sender: BOB,
    stateKey: '',
    content: {},
    rejected: true,
  });
  a.apply(rejectedTopic);
  b.send({ type: 'm.room.name', sender: ALICE, stateKey: '', content: {} });
  const state = await resolveState('10', [a.stateMap(), b.stateMap()], room.loader());
  t.equal(state.get(TOPIC), rejectedTopic.eventId);

  // bob's membership, if rejected, cannot vouch for his next event in the iteration.
  const c = room.fork();
  const d = room.fork();
  const rejectedJoin = { ...room.state.get(stateKey('m.room.member', BOB))!, rejected: true } as AuthEvent;
  const loader = room.loader();
  const wrapped = {
    loadEvents: async (ids: readonly string[]) => {
      const found = new Map(await loader.loadEvents(ids));
      if (found.has(rejectedJoin.eventId)) found.set(rejectedJoin.eventId, rejectedJoin);
      return found;
    },
  };
  const topic = c.send({ type: 'm.room.topic', sender: BOB, stateKey: '', content: { topic: 'c' } });
  d.send({ type: 'm.room.name', sender: ALICE, stateKey: '', content: {} });
  const s = await resolveState('10', [c.stateMap(), d.stateMap()], wrapped);
  t.not(s.get(TOPIC), topic.eventId, "bob's topic fails without a usable membership");
});

void t.test('large rooms: loads are batched, not one per event', async (t) => {
  const members = Array.from({ length: 300 }, (_, i) => `@u${i}:m.test`);
  const room = RoomFixture.standard('10', {}, members);
  const a = room.fork();
  const b = room.fork();
  a.send({ type: 'm.room.member', sender: ALICE, stateKey: members[0]!, content: { membership: 'ban' } });
  b.send({
    type: 'm.room.member',
    sender: members[0]!,
    stateKey: members[0]!,
    content: { membership: 'leave' },
  });
  const loader = room.loader();
  const started = performance.now();
  const state = await resolveState('10', [a.stateMap(), b.stateMap()], loader);
  const elapsed = performance.now() - started;
  t.equal(room.event(state.get(stateKey('m.room.member', members[0]!))!).pdu.content['membership'], 'ban');
  t.ok(loader.loads < 40, `${loader.loads} loader calls`);
  t.ok(elapsed < 2000, `${elapsed.toFixed(0)} ms`);
});
