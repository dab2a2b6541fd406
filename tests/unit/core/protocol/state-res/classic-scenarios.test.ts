/**
 * The classic forked-DAG scenarios for state resolution v2 (room versions 2–11) and v2.1 (12).
 * Each expected outcome is reasoned from rooms/fragments/v2-state-res.md in the comments; in these
 * scenarios v2.1 agrees with v2 (see v2-vs-v21.test.ts for where they differ).
 */
import t from 'tap';
import { resolveState } from '../../../../../core/protocol/state-res/resolve-state.js';
import type { JsonObject, StateKey } from '../../../../../core/protocol/pdu.js';
import { stateKey } from '../../../../../core/protocol/pdu.js';
import { ALICE, BOB, CHARLIE, EVE, RoomFixture, versions } from '../auth-rules/fixtures.js';

/** alice's entry in `users`: v12 creators must not be listed (they have infinite power anyway). */
function users(room: RoomFixture, others: Record<string, number>): JsonObject {
  return room.version.privilegedCreators ? { ...others } : { [ALICE]: 100, ...others };
}

async function resolve(room: RoomFixture, ...branches: RoomFixture[]) {
  return resolveState(
    room.version,
    branches.map((b) => b.stateMap()),
    room.loader(),
  );
}

const at = (state: ReadonlyMap<StateKey, string>, type: string, key = '') => state.get(stateKey(type, key));

void t.test('ban vs power levels: the ban wins over a power levels change by the banned user', async (t) => {
  for (const v of versions(2)) {
    const room = RoomFixture.standard(v, {}, [BOB]);
    const pa = room.send({
      type: 'm.room.power_levels',
      sender: ALICE,
      stateKey: '',
      content: { users: users(room, { [BOB]: 50 }) },
    });
    const banBranch = room.fork();
    const plBranch = room.fork();
    const ban = banBranch.send({
      type: 'm.room.member',
      sender: ALICE,
      stateKey: BOB,
      content: { membership: 'ban' },
    });
    plBranch.send({
      type: 'm.room.power_levels',
      sender: BOB,
      stateKey: '',
      content: { users: users(room, { [BOB]: 50, [CHARLIE]: 50 }) },
    });
    // Power events: the ban (alice, 100 or creator) sorts before bob's power levels (50). The ban is
    // applied; bob's power levels then fail because bob is no longer joined.
    const state = await resolve(room, banBranch, plBranch);
    t.equal(at(state, 'm.room.power_levels'), pa.eventId, `v${v} power levels`);
    t.equal(at(state, 'm.room.member', BOB), ban.eventId, `v${v} bob banned`);
  }
});

void t.test('topic reset: a banned user’s topic does not survive, the older topic is kept', async (t) => {
  for (const v of versions(2)) {
    const room = RoomFixture.standard(v, {}, [BOB]);
    const t1 = room.send({ type: 'm.room.topic', sender: ALICE, stateKey: '', content: { topic: 'T1' } });
    const side = room.fork(); // stays at T1
    const pa = room.send({
      type: 'm.room.power_levels',
      sender: ALICE,
      stateKey: '',
      content: { users: users(room, { [BOB]: 50 }) },
    });
    room.send({ type: 'm.room.topic', sender: BOB, stateKey: '', content: { topic: 'T2' } });
    const ban = room.send({
      type: 'm.room.member',
      sender: ALICE,
      stateKey: BOB,
      content: { membership: 'ban' },
    });
    // Power events (the old and new power levels, the ban, and bob's join which the ban cites) are
    // applied first: bob ends up banned under PA. The topics then go in mainline order of PA: T1 cites
    // the older power levels (position 1), T2 cites PA (position 0), so T1 is tried first and T2 last;
    // T2 fails because bob is banned, leaving T1.
    const state = await resolve(room, room, side);
    t.equal(at(state, 'm.room.topic'), t1.eventId, `v${v} topic`);
    t.equal(at(state, 'm.room.power_levels'), pa.eventId, `v${v} power levels`);
    t.equal(at(state, 'm.room.member', BOB), ban.eventId, `v${v} ban`);
  }
});

void t.test('join rule evasion: a join racing a join rules change fails', async (t) => {
  for (const v of versions(2)) {
    const room = RoomFixture.standard(v);
    const jrBranch = room.fork();
    const joinBranch = room.fork();
    const jr = jrBranch.send({
      type: 'm.room.join_rules',
      sender: ALICE,
      stateKey: '',
      content: { join_rule: 'invite' },
    });
    joinBranch.join(EVE);
    // The join rules change is a power event and is applied first; eve's join (not a power event) is
    // then checked against the invite join rule and fails, so eve has no membership at all.
    const state = await resolve(room, jrBranch, joinBranch);
    t.equal(at(state, 'm.room.join_rules'), jr.eventId, `v${v}`);
    t.equal(at(state, 'm.room.member', EVE), undefined, `v${v}`);
  }
});

void t.test('offtopic power levels: a chain of power level changes is replayed in auth order', async (t) => {
  for (const v of versions(2)) {
    const room = RoomFixture.standard(v, {}, [BOB, CHARLIE]);
    room.send({
      type: 'm.room.power_levels',
      sender: ALICE,
      stateKey: '',
      content: { users: users(room, { [BOB]: 50 }) },
    });
    const side = room.fork(); // stays at PA
    room.send({
      type: 'm.room.power_levels',
      sender: BOB,
      stateKey: '',
      content: { users: users(room, { [BOB]: 50, [CHARLIE]: 50 }) },
    });
    const pc = room.send({
      type: 'm.room.power_levels',
      sender: CHARLIE,
      stateKey: '',
      content: { users: users(room, { [BOB]: 50, [CHARLIE]: 0 }) },
    });
    // PA → PB → PC is also their auth order. PB (bob at 50 grants charlie 50) and PC (charlie lowers
    // only himself) each pass against the previous one, so PC ends up resolved.
    const state = await resolve(room, room, side);
    t.equal(at(state, 'm.room.power_levels'), pc.eventId, `v${v}`);
  }
});

void t.test('topic basic: the demoted user’s power levels and topic both fail', async (t) => {
  for (const v of versions(2)) {
    const room = RoomFixture.standard(v, {}, [BOB]);
    room.send({ type: 'm.room.topic', sender: ALICE, stateKey: '', content: { topic: 'T1' } });
    const pa1Content = { users: users(room, { [BOB]: 50 }) };
    room.send({ type: 'm.room.power_levels', sender: ALICE, stateKey: '', content: pa1Content });
    const bobBranch = room.fork();
    const t2 = room.send({ type: 'm.room.topic', sender: ALICE, stateKey: '', content: { topic: 'T2' } });
    const pa2 = room.send({
      type: 'm.room.power_levels',
      sender: ALICE,
      stateKey: '',
      content: { users: users(room, { [BOB]: 0 }) },
    });
    bobBranch.send({ type: 'm.room.power_levels', sender: BOB, stateKey: '', content: pa1Content });
    bobBranch.send({ type: 'm.room.topic', sender: BOB, stateKey: '', content: { topic: 'T3' } });
    // PA2 (alice) sorts before PB (bob); after PA2 bob is at 0 and PB fails. T2 and T3 both trace to
    // PA1 on PA2's mainline (same position), so they go by timestamp: T2 then T3; T3 fails (bob at 0).
    const state = await resolve(room, room, bobBranch);
    t.equal(at(state, 'm.room.power_levels'), pa2.eventId, `v${v} power levels`);
    t.equal(at(state, 'm.room.topic'), t2.eventId, `v${v} topic`);
  }
});

void t.test(
  'mainline ordering: the event based on the newer power levels is applied last, whatever its timestamp',
  async (t) => {
    for (const v of versions(2)) {
      const room = RoomFixture.standard(v, { [BOB]: 50, [CHARLIE]: 50 }, [BOB, CHARLIE]);
      const content = { users: users(room, { [BOB]: 50, [CHARLIE]: 50 }) };
      room.send({ type: 'm.room.power_levels', sender: ALICE, stateKey: '', content });
      const bobBranch = room.fork();
      const pa2 = room.send({
        type: 'm.room.power_levels',
        sender: ALICE,
        stateKey: '',
        content: { ...content, kick: 40 },
      });
      const tc = room.send({
        type: 'm.room.topic',
        sender: CHARLIE,
        stateKey: '',
        content: { topic: 'C' },
        ts: 10,
      });
      bobBranch.send({ type: 'm.room.topic', sender: BOB, stateKey: '', content: { topic: 'B' }, ts: 99999 });
      // PA2 resolves as the power levels. Mainline of PA2: [PA2, PA1, …]. Bob's topic cites PA1
      // (position 1), charlie's cites PA2 (position 0): greater position first, so bob's topic is applied
      // first and charlie's last, even though charlie's timestamp is far earlier. Both are allowed.
      const state = await resolve(room, room, bobBranch);
      t.equal(at(state, 'm.room.power_levels'), pa2.eventId, `v${v}`);
      t.equal(at(state, 'm.room.topic'), tc.eventId, `v${v}`);
    }
  },
);

void t.test('mainline ordering ties: origin_server_ts, then event id', async (t) => {
  for (const v of ['10', '12']) {
    const room = RoomFixture.standard(v, { [BOB]: 50 }, [BOB]);
    const a = room.fork();
    const b = room.fork();
    // Same mainline position: the later timestamp is applied last and wins.
    a.send({ type: 'm.room.topic', sender: ALICE, stateKey: '', content: { topic: 'early' }, ts: 5000 });
    const late = b.send({
      type: 'm.room.topic',
      sender: BOB,
      stateKey: '',
      content: { topic: 'late' },
      ts: 6000,
    });
    t.equal(at(await resolve(room, a, b), 'm.room.topic'), late.eventId, `v${v} by timestamp`);

    // Same position and timestamp: the greater event id is applied last and wins.
    const c = room.fork();
    const d = room.fork();
    c.send({
      type: 'm.room.topic',
      sender: ALICE,
      stateKey: '',
      content: { topic: 'x' },
      ts: 7000,
      id: '$zzz',
    });
    d.send({
      type: 'm.room.topic',
      sender: BOB,
      stateKey: '',
      content: { topic: 'y' },
      ts: 7000,
      id: '$aaa',
    });
    t.equal(at(await resolve(room, c, d), 'm.room.topic'), '$zzz', `v${v} by event id`);
  }
});

void t.test(
  'power ordering: higher sender power is applied first, so the lower-powered change wins if allowed',
  async (t) => {
    for (const v of ['10', '12']) {
      const room = RoomFixture.standard(v, { [BOB]: 50 }, [BOB]);
      const a = room.fork();
      const b = room.fork();
      // alice's join rules change (higher power) sorts first despite its later timestamp; bob's (50
      // meets state_default 50) is applied after it and wins.
      a.send({
        type: 'm.room.join_rules',
        sender: ALICE,
        stateKey: '',
        content: { join_rule: 'invite' },
        ts: 9000,
      });
      const bobs = b.send({
        type: 'm.room.join_rules',
        sender: BOB,
        stateKey: '',
        content: { join_rule: 'knock' },
        ts: 10,
      });
      t.equal(at(await resolve(room, a, b), 'm.room.join_rules'), bobs.eventId, `v${v}`);
    }
  },
);

void t.test('power ordering ties: earlier timestamp first, then lower event id', async (t) => {
  const room = RoomFixture.standard('10', { [BOB]: 100 }, [BOB]);
  const a = room.fork();
  const b = room.fork();
  const later = a.send({
    type: 'm.room.join_rules',
    sender: ALICE,
    stateKey: '',
    content: { join_rule: 'invite' },
    ts: 900,
  });
  b.send({ type: 'm.room.join_rules', sender: BOB, stateKey: '', content: { join_rule: 'knock' }, ts: 800 });
  t.equal(
    at(await resolve(room, a, b), 'm.room.join_rules'),
    later.eventId,
    'equal power: the later timestamp wins',
  );

  const c = room.fork();
  const d = room.fork();
  c.send({
    type: 'm.room.join_rules',
    sender: ALICE,
    stateKey: '',
    content: { join_rule: 'invite' },
    ts: 1000,
    id: '$b',
  });
  d.send({
    type: 'm.room.join_rules',
    sender: BOB,
    stateKey: '',
    content: { join_rule: 'knock' },
    ts: 1000,
    id: '$a',
  });
  t.equal(
    at(await resolve(room, c, d), 'm.room.join_rules'),
    '$b',
    'equal power and time: the greater id wins',
  );
});

void t.test('resolution is independent of the order of the state sets', async (t) => {
  const room = RoomFixture.standard('10', { [BOB]: 50 }, [BOB, CHARLIE]);
  const a = room.fork();
  const b = room.fork();
  a.send({ type: 'm.room.member', sender: ALICE, stateKey: CHARLIE, content: { membership: 'ban' } });
  b.send({ type: 'm.room.topic', sender: BOB, stateKey: '', content: { topic: 'b' } });
  const one = await resolveState('10', [a.stateMap(), b.stateMap()], room.loader());
  const two = await resolveState('10', [b.stateMap(), a.stateMap()], room.loader());
  t.same([...one].sort(), [...two].sort());
});
