/**
 * The joining server's checks of a send_join answer (server-server-api "Joining Rooms", and "Checks
 * performed on receipt of a PDU" for every event it carries), before anything is stored:
 *
 *  1. the shape: `state` and `auth_chain` arrays of PDUs;
 *  2. every PDU of both: format for the room version, signatures of every server it needs (keys from the
 *     caller's lookup: federation's key ring, cached in memory, so no database trip per event), the room;
 *     a content hash mismatch keeps the redacted form, as on receipt;
 *  3. the state: one event per (type, state_key), and an `m.room.create` whose `room_version` is the one
 *     make_join named (its room id was checked with every event in 2);
 *  4. the auth chain authorises the state: every event of both, auth events first, passes the auth rules
 *     against its own `auth_events`, which must all be in the answer;
 *  5. the join: the answer's `event` replaces ours when it is ours with more signatures (a restricted
 *     join's authorising server signs it), and it must pass the auth rules against the returned state.
 *
 * Any failure refuses the whole answer (`InvalidJoinAnswer`): nothing of it is kept.
 */
import {
  checkEventAgainstAuthEvents,
  checkEventAuth,
  type AuthCheckOptions,
  type AuthEvent,
} from '../../../core/protocol/auth-rules/index.js';
import { canonicalJson } from '../../../core/protocol/canonical-json.js';
import { referenceIds } from '../../../core/protocol/event-references.js';
import { stateKey, type PduJson, type StateKey } from '../../../core/protocol/pdu.js';
import { checkPduOnReceipt } from '../../../core/protocol/pdu-receipt.js';
import {
  signedByVerifiedServers,
  verifyThirdPartyInviteSignature,
  type VerifyKeyLookup,
} from '../../../core/protocol/pdu-signatures.js';
import type { RoomVersion } from '../../../core/protocol/room-versions.js';

/** A send_join answer that must not be used; `message` says why (for the log and the client's error). */
export class InvalidJoinAnswer extends Error {}

/** An event of the answer that passed receipt checks. */
export interface CheckedPdu {
  readonly eventId: string;
  readonly pdu: PduJson;
  /** The servers whose signatures verified (for `join_authorised_via_users_server`). */
  readonly signedBy: readonly string[];
}

export interface ValidatedJoin {
  readonly version: RoomVersion;
  readonly create: CheckedPdu;
  /** The state before the join, one event per (type, state_key). */
  readonly state: ReadonlyMap<StateKey, CheckedPdu>;
  /** Every event of the answer (state and auth chain), by id. */
  readonly events: ReadonlyMap<string, CheckedPdu>;
  /** Our join, with the resident's signatures when it added some. */
  readonly join: { readonly eventId: string; readonly pdu: PduJson };
}

export interface SendJoinAnswerInput {
  readonly roomId: string;
  readonly version: RoomVersion;
  /** The join we signed and sent. */
  readonly join: { readonly eventId: string; readonly pdu: PduJson };
  readonly answer: unknown;
  readonly keys: VerifyKeyLookup;
}

/** How many PDUs are checked at once (their key lookups overlap; the signature checks are CPU). */
const CHECK_BATCH = 64;

export async function validateSendJoinAnswer(input: SendJoinAnswerInput): Promise<ValidatedJoin> {
  const { roomId, version, keys } = input;
  const answer = input.answer;
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) {
    throw new InvalidJoinAnswer('the send_join answer is not a JSON object');
  }
  const body = answer as Record<string, unknown>;
  const rawState = body['state'];
  const rawChain = body['auth_chain'];
  if (!Array.isArray(rawState) || !Array.isArray(rawChain)) {
    throw new InvalidJoinAnswer('the send_join answer lacks the state or auth_chain array');
  }

  // 2. Receipt checks of every PDU, by id (an event may be in both lists).
  const events = new Map<string, CheckedPdu>();
  const check = async (raw: unknown): Promise<CheckedPdu> => {
    const verdict = await checkPduOnReceipt({ pdu: raw, roomVersion: version, keys, roomId });
    if (!verdict.accepted) {
      throw new InvalidJoinAnswer(
        `event ${verdict.eventId ?? '(no id)'} of the answer fails its ${verdict.stage} check: ${verdict.reason}`,
      );
    }
    return { eventId: verdict.eventId, pdu: verdict.pdu, signedBy: verdict.signedBy };
  };
  const checkAll = async (raws: readonly unknown[]): Promise<CheckedPdu[]> => {
    const out: CheckedPdu[] = [];
    for (let i = 0; i < raws.length; i += CHECK_BATCH) {
      out.push(...(await Promise.all(raws.slice(i, i + CHECK_BATCH).map(check))));
    }
    return out;
  };
  const stateEvents = await checkAll(rawState);
  for (const e of stateEvents) events.set(e.eventId, e);
  for (const e of await checkAll(rawChain)) events.set(e.eventId, e);

  // 3. The state and its create event.
  const state = new Map<StateKey, CheckedPdu>();
  for (const e of stateEvents) {
    if (typeof e.pdu.state_key !== 'string') {
      throw new InvalidJoinAnswer(`event ${e.eventId} of the state is not a state event`);
    }
    const key = stateKey(e.pdu.type, e.pdu.state_key);
    const other = state.get(key);
    if (other && other.eventId !== e.eventId) {
      throw new InvalidJoinAnswer(`the state holds two events for (${e.pdu.type}, ${e.pdu.state_key})`);
    }
    state.set(key, e);
  }
  const create = state.get(stateKey('m.room.create', ''));
  if (!create) throw new InvalidJoinAnswer('the state has no m.room.create event');
  const createdVersion = create.pdu.content['room_version'] ?? '1';
  if (createdVersion !== version.id) {
    throw new InvalidJoinAnswer(
      `the room was created with version ${JSON.stringify(createdVersion)}, make_join said ${version.id}`,
    );
  }

  // 4. The auth chain authorises every event, auth events first.
  const verified = signedByVerifiedServers(version);
  const signedBy = new Map([...events].map(([id, e]) => [id, e.signedBy]));
  const options: AuthCheckOptions & { createEvent: AuthEvent } = {
    isSignedBy: (e, server) => signedBy.get(e.eventId)?.includes(server) ?? verified(e, server),
    verifySignature: verifyThirdPartyInviteSignature,
    createEvent: { eventId: create.eventId, pdu: create.pdu },
  };
  for (const e of authOrder(events)) {
    const authEvents = referenceIds(e.pdu.auth_events).map((id) => events.get(id)!);
    const verdict = checkEventAgainstAuthEvents(e, authEvents, version, options);
    if (!verdict.allowed) {
      throw new InvalidJoinAnswer(`event ${e.eventId} of the answer fails the auth rules: ${verdict.reason}`);
    }
  }

  // 5. The join, as the resident returned it when it is ours, authorised by the state.
  const join = await echoedJoin(input, body['event']);
  const joinSignedBy = await check(join.pdu).then(
    (c) => c.signedBy,
    () => [] as readonly string[],
  );
  const allowed = checkEventAuth(
    { eventId: join.eventId, pdu: join.pdu },
    (type, key) => state.get(stateKey(type, key)),
    version,
    {
      ...options,
      isSignedBy: (e, server) =>
        e.eventId === join.eventId ? joinSignedBy.includes(server) : options.isSignedBy!(e, server),
    },
  );
  if (!allowed.allowed) {
    throw new InvalidJoinAnswer(`the returned state does not allow the join: ${allowed.reason}`);
  }
  return { version, create, state, events, join };
}

/**
 * Our join with the signatures the resident added, when its `event` is ours otherwise (same canonical JSON
 * without `signatures` and `unsigned`) and every signature verifies; ours as we sent it otherwise.
 */
async function echoedJoin(
  input: SendJoinAnswerInput,
  returned: unknown,
): Promise<{ eventId: string; pdu: PduJson }> {
  const ours = input.join;
  if (typeof returned !== 'object' || returned === null || Array.isArray(returned)) return ours;
  const theirs = returned as Record<string, unknown>;
  const strip = (e: Record<string, unknown>): string => {
    const { signatures: _s, unsigned: _u, ...rest } = e;
    return canonicalJson(rest);
  };
  if (strip(theirs) !== strip(ours.pdu)) return ours;
  const sigs = theirs['signatures'];
  if (typeof sigs !== 'object' || sigs === null || Array.isArray(sigs)) return ours;
  const merged = { ...ours.pdu, signatures: { ...(sigs as PduJson['signatures']), ...ours.pdu.signatures } };
  const verdict = await checkPduOnReceipt({
    pdu: merged,
    roomVersion: input.version,
    keys: input.keys,
    roomId: input.roomId,
  });
  return verdict.accepted && verdict.eventId === ours.eventId ? { eventId: ours.eventId, pdu: merged } : ours;
}

/**
 * The events in an order where each comes after its auth events (depth-first on `auth_events`); throws
 * when one cites an event the answer lacks, or the auth events form a cycle.
 */
function authOrder(events: ReadonlyMap<string, CheckedPdu>): CheckedPdu[] {
  const order: CheckedPdu[] = [];
  const done = new Set<string>();
  const visiting = new Set<string>();
  for (const root of events.values()) {
    if (done.has(root.eventId)) continue;
    // An explicit stack: a long auth chain must not overflow the call stack.
    const stack: { e: CheckedPdu; next: number; auth: string[] }[] = [
      { e: root, next: 0, auth: referenceIds(root.pdu.auth_events) },
    ];
    visiting.add(root.eventId);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.next < top.auth.length) {
        const id = top.auth[top.next++]!;
        if (done.has(id)) continue;
        if (visiting.has(id)) throw new InvalidJoinAnswer(`the auth events of ${id} form a cycle`);
        const e = events.get(id);
        if (!e) {
          throw new InvalidJoinAnswer(
            `event ${top.e.eventId} cites auth event ${id}, absent from the answer`,
          );
        }
        visiting.add(id);
        stack.push({ e, next: 0, auth: referenceIds(e.pdu.auth_events) });
      } else {
        stack.pop();
        visiting.delete(top.e.eventId);
        done.add(top.e.eventId);
        order.push(top.e);
      }
    }
  }
  return order;
}
