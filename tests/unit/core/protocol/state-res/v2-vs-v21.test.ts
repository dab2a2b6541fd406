/**
 * Where state resolution v2.1 (room version 12) differs from v2 (room versions 2–11): the first
 * iterative auth checks start from an empty state rather than the unconflicted state, and the full
 * conflicted set includes the conflicted state subgraph. The state sets here are ones a server may be
 * handed (by a faulty or malicious peer, or after earlier resolutions); the algorithm must still give
 * every server the same answer.
 */
import t from 'tap';
import type { JsonObject, StateKey } from '../../../../../core/protocol/pdu.js';
import { stateKey } from '../../../../../core/protocol/pdu.js';
import { resolveState } from '../../../../../core/protocol/state-res/resolve-state.js';
import { ALICE, BOB, CHARLIE, RoomFixture } from '../auth-rules/fixtures.js';

function users(room: RoomFixture, others: Record<string, number>): JsonObject {
  return room.version.privilegedCreators ? { ...others } : { [ALICE]: 100, ...others };
}
const PL = stateKey('m.room.power_levels', '');

void t.test(
  'an unconflicted ban no longer decides a conflicted power levels event (empty starting state)',
  async (t) => {
    const outcome = async (v: string) => {
      const room = RoomFixture.standard(v, { [BOB]: 50 }, [BOB]);
      const pl0 = room.state.get(PL)!;
      const bobBranch = room.fork();
      const aliceBranch = room.fork();
      const plB = bobBranch.send({
        type: 'm.room.power_levels',
        sender: BOB,
        stateKey: '',
        content: { users: users(room, { [BOB]: 50, [CHARLIE]: 10 }) },
      });
      const ban = aliceBranch.send({
        type: 'm.room.member',
        sender: ALICE,
        stateKey: BOB,
        content: { membership: 'ban' },
      });
      // Both sets agree bob is banned (so the ban is unconflicted) but disagree on the power levels.
      const s1 = new Map<StateKey, string>(bobBranch.stateMap()).set(
        stateKey('m.room.member', BOB),
        ban.eventId,
      );
      const s2 = aliceBranch.stateMap();
      const state = await resolveState(v, [s1, s2], room.loader());
      return { state, pl0: pl0.eventId, plB: plB.eventId, ban: ban.eventId };
    };

    // v2: the iteration starts from the unconflicted state, where bob is banned, so bob's power levels
    // fail and the old power levels stay.
    const v2 = await outcome('11');
    t.equal(v2.state.get(PL), v2.pl0, 'v2 keeps the old power levels');
    t.equal(v2.state.get(stateKey('m.room.member', BOB)), v2.ban);

    // v2.1: the iteration starts empty; bob's membership comes from his event's own auth events (joined),
    // so his power levels pass. The unconflicted ban is laid back over the result afterwards.
    const v21 = await outcome('12');
    t.equal(v21.state.get(PL), v21.plB, "v2.1 takes bob's power levels");
    t.equal(v21.state.get(stateKey('m.room.member', BOB)), v21.ban, 'and bob stays banned');
  },
);

void t.test('the conflicted state subgraph replays events between conflicted events', async (t) => {
  const outcome = async (v: string) => {
    const room = RoomFixture.standard(v, {}, [BOB]);
    const p1 = room.send({
      type: 'm.room.power_levels',
      sender: ALICE,
      stateKey: '',
      content: { users: users(room, { [BOB]: 50 }) },
    });
    room.send({
      type: 'm.room.power_levels',
      sender: ALICE,
      stateKey: '',
      content: { users: users(room, { [BOB]: 100 }) },
    });
    room.send({ type: 'm.room.topic', sender: ALICE, stateKey: '', content: { topic: 'cites P2' } });
    const p3 = room.send({
      type: 'm.room.power_levels',
      sender: BOB,
      stateKey: '',
      content: { users: users(room, { [BOB]: 100, [CHARLIE]: 100 }) },
    });
    // Two sets differing only in the power levels: P3 against P1. P2 sits between them in the auth
    // graph (P3 → P2 → P1) but, being cited by the topic both sets hold, is in every auth chain and
    // so not in the auth difference.
    const s1 = room.stateMap();
    const s2 = new Map(s1).set(PL, p1.eventId);
    const state = await resolveState(v, [s1, s2], room.loader());
    return { state, p1: p1.eventId, p3: p3.eventId };
  };

  // v2: the full conflicted set is {P1, P3}. P3 (bob) is checked against P1, where bob has 50 and
  // cannot grant 100, so it fails and P1 stays.
  const v2 = await outcome('10');
  t.equal(v2.state.get(PL), v2.p1, 'v2 keeps P1');

  // v2.1: the subgraph adds P2, so P1, P2, P3 are replayed in auth order; under P2 bob has 100 and P3
  // passes.
  const v21 = await outcome('12');
  t.equal(v21.state.get(PL), v21.p3, 'v2.1 reaches P3');
});
