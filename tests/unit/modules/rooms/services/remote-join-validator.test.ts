/**
 * The joining server's checks of a send_join answer, on hand-built rooms (v10, server "a.test") signed
 * with a made-up key: a valid answer, the echoed join with the resident's extra signature, and each
 * refusal — shape, a bad signature, two events for one state key, no create event, another room
 * version, an auth event absent, an event the auth rules refuse, a join the state does not allow. (An auth
 * cycle needs event ids that are not hashes, v1–2: the depth-first order refuses it too.)
 */
import t from 'tap';
import { buildEvent, type BuiltEvent } from '../../../../../core/protocol/event-builder.js';
import type { JsonObject, PduJson } from '../../../../../core/protocol/pdu.js';
import { getRoomVersion } from '../../../../../core/protocol/room-versions.js';
import { generateSigningKey } from '../../../../../core/protocol/signing-key.js';
import { signEvent } from '../../../../../core/protocol/signing.js';
import {
  InvalidJoinAnswer,
  validateSendJoinAnswer,
} from '../../../../../modules/rooms/services/remote-join-validator.js';

const version = getRoomVersion('10')!;
const roomId = '!room:a.test';
const keyA = generateSigningKey();
const keyB = generateSigningKey();
const keys = {
  getVerifyKey: (server: string) => {
    const key = server === 'a.test' ? keyA : server === 'b.test' ? keyB : undefined;
    return key && { publicKey: key.publicKey, validUntilTs: 8.64e15 };
  },
};
const alice = '@alice:a.test';
const bob = '@bob:b.test';

let depth = 1;
function event(
  server: string,
  draft: { sender: string; type: string; state_key?: string; content: JsonObject },
  auth: readonly BuiltEvent[],
  prev: readonly BuiltEvent[],
): BuiltEvent {
  return buildEvent({
    roomVersion: version,
    serverName: server,
    key: server === 'a.test' ? keyA : keyB,
    partial: {
      room_id: roomId,
      ...draft,
      auth_events: auth.map((e) => e.eventId),
      prev_events: prev.map((e) => e.eventId),
      depth: depth++,
    },
  });
}

function room(joinRule = 'public'): { state: BuiltEvent[]; join: BuiltEvent } {
  const create = event(
    'a.test',
    { sender: alice, type: 'm.room.create', state_key: '', content: { creator: alice, room_version: '10' } },
    [],
    [],
  );
  const member = event(
    'a.test',
    { sender: alice, type: 'm.room.member', state_key: alice, content: { membership: 'join' } },
    [create],
    [create],
  );
  const pl = event(
    'a.test',
    { sender: alice, type: 'm.room.power_levels', state_key: '', content: { users: { [alice]: 100 } } },
    [create, member],
    [member],
  );
  const rules = event(
    'a.test',
    { sender: alice, type: 'm.room.join_rules', state_key: '', content: { join_rule: joinRule } },
    [create, member, pl],
    [pl],
  );
  const join = event(
    'b.test',
    { sender: bob, type: 'm.room.member', state_key: bob, content: { membership: 'join' } },
    [create, pl, rules],
    [rules],
  );
  return { state: [create, member, pl, rules], join };
}

function answerOf(
  state: readonly BuiltEvent[],
  chain: readonly BuiltEvent[] = state,
): Record<string, unknown> {
  return { state: state.map((e) => e.pdu), auth_chain: chain.map((e) => e.pdu) };
}

async function refusal(answer: unknown, join: BuiltEvent): Promise<string> {
  try {
    await validateSendJoinAnswer({
      roomId,
      version,
      join: { eventId: join.eventId, pdu: join.pdu },
      answer,
      keys,
    });
  } catch (err) {
    if (err instanceof InvalidJoinAnswer) return err.message;
    throw err;
  }
  throw new Error('the answer was accepted');
}

void t.test('a valid answer: the state, the create event, our join', async (t) => {
  const { state, join } = room();
  const ok = await validateSendJoinAnswer({
    roomId,
    version,
    join: { eventId: join.eventId, pdu: join.pdu },
    answer: answerOf(state),
    keys,
  });
  t.equal(ok.create.eventId, state[0]!.eventId);
  t.equal(ok.state.size, 4);
  t.equal(ok.events.size, 4);
  t.equal(ok.join.eventId, join.eventId);
});

void t.test('the echoed join keeps the resident’s added signature; a changed echo is ignored', async (t) => {
  const { state, join } = room();
  const countersigned = signEvent(join.pdu, version, 'a.test', keyA);
  const ok = await validateSendJoinAnswer({
    roomId,
    version,
    join: { eventId: join.eventId, pdu: join.pdu },
    answer: { ...answerOf(state), event: countersigned },
    keys,
  });
  t.ok(ok.join.pdu.signatures['a.test'], 'the resident’s signature kept');
  t.ok(ok.join.pdu.signatures['b.test'], 'and ours');
  const changed = { ...countersigned, content: { membership: 'join', displayname: 'evil' } };
  const mine = await validateSendJoinAnswer({
    roomId,
    version,
    join: { eventId: join.eventId, pdu: join.pdu },
    answer: { ...answerOf(state), event: changed },
    keys,
  });
  t.same(mine.join.pdu, join.pdu, 'ours as sent');
});

void t.test('refusals', async (t) => {
  const { state, join } = room();
  t.match(await refusal(null, join), /not a JSON object/);
  t.match(await refusal({ state: [] }, join), /lacks the state or auth_chain/);
  const tampered = { ...state[2]!.pdu, depth: 99 } as PduJson;
  t.match(
    await refusal({ state: [state[0]!.pdu, state[1]!.pdu, tampered, state[3]!.pdu], auth_chain: [] }, join),
    /signatures check/,
  );
  const otherRules = event(
    'a.test',
    { sender: alice, type: 'm.room.join_rules', state_key: '', content: { join_rule: 'public' } },
    [state[0]!, state[1]!, state[2]!],
    [state[3]!],
  );
  t.match(await refusal(answerOf([...state, otherRules]), join), /two events for \(m\.room\.join_rules/);
  t.match(await refusal(answerOf(state.slice(1)), join), /no m\.room\.create/);
  t.match(await refusal(answerOf([state[0]!, state[1]!, state[3]!]), join), /absent from the answer/);

  const v9create = event(
    'a.test',
    { sender: alice, type: 'm.room.create', state_key: '', content: { creator: alice, room_version: '9' } },
    [],
    [],
  );
  t.match(await refusal(answerOf([v9create]), join), /created with version "9"/);

  // A member event of someone who never joined, claiming to set the power levels: refused by the rules.
  const intruder = event(
    'b.test',
    { sender: bob, type: 'm.room.power_levels', state_key: '', content: { users: { [bob]: 100 } } },
    [state[0]!, state[2]!],
    [state[3]!],
  );
  t.match(
    await refusal(answerOf([state[0]!, state[1]!, intruder, state[3]!], state), join),
    /fails the auth rules/,
  );

  const invite = room('invite');
  t.match(await refusal(answerOf(invite.state), invite.join), /does not allow the join/);
});
