/**
 * The state part of persisting an event (modules/rooms/services/persist-state.ts): which groups are written
 * (deltas off which group, snapshots when a key goes), which group becomes current, which current-state
 * entries change and whether resolution (not the event) changed them. A fake StateStore records the
 * groups; no database.
 */
import t from 'tap';
import type { AuthEvent } from '../../../../../core/protocol/auth-rules/index.js';
import { stateKey, type PduJson, type StateKey } from '../../../../../core/protocol/pdu.js';
import { getRoomVersion } from '../../../../../core/protocol/room-versions.js';
import type { Sql } from '../../../../../core/storage/sql.js';
import type { StateStore } from '../../../../../modules/rooms/store/state-store.js';
import {
  forkedStateStep,
  headStateStep,
  type ForkedState,
} from '../../../../../modules/rooms/services/persist-state.js';
import type { HeadStateEvent, RoomHead } from '../../../../../modules/rooms/services/room-heads.js';
import { RoomStateResolver } from '../../../../../modules/rooms/services/state-resolver.js';

interface Created {
  prevGroup: number | null;
  delta: Map<StateKey, string>;
  snapshot: boolean;
}

function fakeStore(): { store: StateStore; created: Created[] } {
  const created: Created[] = [];
  let next = 100;
  const store = {
    createStateGroup: (
      _roomId: string,
      prevGroup: number | null,
      prevChainLength: number,
      delta: ReadonlyMap<StateKey, string>,
      _full: () => ReadonlyMap<StateKey, string>,
      _sql?: Sql,
      options: { snapshot?: boolean } = {},
    ) => {
      const snapshot = options.snapshot === true || prevGroup === null;
      created.push({ prevGroup, delta: new Map(delta), snapshot });
      return Promise.resolve({ id: ++next, chainLength: snapshot ? 0 : prevChainLength + 1 });
    },
  } as unknown as StateStore;
  return { store, created };
}

const sql = {} as Sql;
const version = getRoomVersion('10')!;
const ev = (eventId: string, type: string, key?: string): AuthEvent => ({
  eventId,
  pdu: {
    type,
    sender: '@a:x',
    content: {},
    ...(key === undefined ? {} : { state_key: key }),
  } as unknown as PduJson,
});
const TOPIC = stateKey('m.room.topic', '');
const NAME = stateKey('m.room.name', '');
const CREATE = stateKey('m.room.create', '');

function headWith(state: [StateKey, AuthEvent][], stateGroup = 7): RoomHead {
  return {
    roomId: '!r:x',
    version,
    lastStream: 10,
    maxDepth: 5,
    extremities: ['$head'],
    stateGroup,
    chainLength: 3,
    state: new Map<StateKey, HeadStateEvent>(state),
  };
}
const ids = (m: ReadonlyMap<StateKey, AuthEvent | undefined>): [StateKey, string | undefined][] =>
  [...m].map(([k, e]) => [k, e?.eventId]);

void t.test('on the head: a message changes nothing, a state event is a one-entry delta', async (t) => {
  const head = headWith([[CREATE, ev('$c', 'm.room.create', '')]]);
  const { store, created } = fakeStore();
  const msg = ev('$m', 'm.room.message');
  const plain = await headStateStep(
    store,
    { head, eventId: '$m', event: msg, key: undefined, accepted: true },
    sql,
  );
  t.equal(plain.eventGroup, 7);
  t.equal(plain.currentGroup, 7);
  t.equal(plain.changes.size, 0);
  t.equal(created.length, 0, 'no group written');

  const topic = ev('$t', 'm.room.topic', '');
  const step = await headStateStep(
    store,
    { head, eventId: '$t', event: topic, key: TOPIC, accepted: true },
    sql,
  );
  t.same(created, [{ prevGroup: 7, delta: new Map([[TOPIC, '$t']]), snapshot: false }]);
  t.equal(step.eventGroup, step.currentGroup);
  t.equal(step.chainLength, 4);
  t.same(ids(step.changes), [[TOPIC, '$t']]);
  t.equal(step.resolved, false);
});

void t.test(
  'a message on a fork: the fork’s group, and resolution may change the current state',
  async (t) => {
    const head = headWith([
      [CREATE, ev('$c', 'm.room.create', '')],
      [TOPIC, ev('$t2', 'm.room.topic', '')],
    ]);
    const beforeEvents = new Map<StateKey, HeadStateEvent>([
      [CREATE, ev('$c', 'm.room.create', '')],
      [TOPIC, ev('$t1', 'm.room.topic', '')],
    ]);
    const forked: ForkedState = {
      before: {
        events: beforeEvents,
        group: { id: 5, chainLength: 1, state: new Map([...beforeEvents].map(([k, e]) => [k, e.eventId])) },
      },
      current: beforeEvents, // say resolution chose the fork's topic
    };
    const { store, created } = fakeStore();
    const msg = ev('$m', 'm.room.message');
    const step = await forkedStateStep(
      store,
      { head, eventId: '$m', event: msg, key: undefined, accepted: true },
      forked,
      sql,
    );
    t.equal(step.eventGroup, 5, 'the state after the message is its prev_event’s group');
    t.equal(step.currentGroup, 5, 'the resolved state is that group too: nothing written');
    t.equal(created.length, 0);
    t.same(ids(step.changes), [[TOPIC, '$t1']]);
    t.equal(step.resolved, true, 'the change is resolution’s, not the event’s');

    const rejected = await forkedStateStep(
      store,
      { head, eventId: '$m', event: msg, key: undefined, accepted: false },
      forked,
      sql,
    );
    t.equal(rejected.currentGroup, 7, 'a rejected event changes no state');
    t.equal(rejected.changes.size, 0);
  },
);

void t.test('a state event on a merge: the resolved state before is stored off a prev’s group', async (t) => {
  const head = headWith([
    [CREATE, ev('$c', 'm.room.create', '')],
    [TOPIC, ev('$t2', 'm.room.topic', '')],
    [NAME, ev('$n', 'm.room.name', '')],
  ]);
  const baseState = new Map<StateKey, string>([
    [CREATE, '$c'],
    [TOPIC, '$t1'],
    [NAME, '$n'],
  ]);
  const beforeEvents = new Map<StateKey, HeadStateEvent>([
    [CREATE, ev('$c', 'm.room.create', '')],
    [TOPIC, ev('$t2', 'm.room.topic', '')],
  ]); // the name resolved away
  const name2 = ev('$n2', 'm.room.name', '');
  const { store, created } = fakeStore();
  const step = await forkedStateStep(
    store,
    { head, eventId: '$n2', event: name2, key: NAME, accepted: true },
    { before: { events: beforeEvents, base: { id: 3, chainLength: 2, state: baseState } } },
    sql,
  );
  t.equal(created.length, 2, 'the state before, then the state after');
  t.same(
    created[0],
    { prevGroup: 3, delta: new Map([[TOPIC, '$t2']]), snapshot: true },
    'a key went: snapshot',
  );
  t.same(created[1], { prevGroup: 101, delta: new Map([[NAME, '$n2']]), snapshot: false });
  t.equal(step.currentGroup, step.eventGroup, 'the only extremity: current = after');
  t.same(ids(step.changes), [[NAME, '$n2']]);
  t.equal(step.resolved, false, 'only the event changed the current state');
  t.same(step.unsigned, undefined, 'it replaces nothing in the state before it');
});

void t.test('extendsHead: prev_events exactly the forward extremities', async (t) => {
  const head = { ...headWith([]), extremities: ['$a', '$b'] };
  t.ok(RoomStateResolver.extendsHead(head, ['$b', '$a']));
  t.notOk(RoomStateResolver.extendsHead(head, ['$a']), 'a subset is a fork');
  t.notOk(RoomStateResolver.extendsHead(head, ['$a', '$b', '$c']));
  t.notOk(RoomStateResolver.extendsHead(head, []));
});
