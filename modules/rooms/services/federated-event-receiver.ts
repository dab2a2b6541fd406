/**
 * The receive pipeline for a PDU from another server (server-server-api "Checks performed on receipt of a
 * PDU"), in the spec's order:
 *
 *  1–3. `checkPduOnReceipt` (core/protocol): format and size for the room version, signatures of every
 *       required server (keys through the `VerifyKeyLookup` the caller passes: federation's key ring — rooms
 *       never imports federation), content hash (mismatch: continue with the redacted form). A failure here
 *       drops the event: nothing is stored.
 *  4.   auth against the event's own `auth_events` → stored rejected, with the rule's reason;
 *  5.   auth against the state before the event → stored rejected. The state before is the head's when its
 *       prev_events are exactly our forward extremities; else the state after its one prev_event, or the
 *       resolution of the states after each (state-resolver.ts, the room version's algorithm);
 *  6.   off the head, auth against the current state → soft-failed: kept in `rooms_soft_failed_events`,
 *       never served to clients, never a forward extremity, never state;
 *  then `EventPersister.persistEvents` under the room lock (a local send in the same room waits, and vice
 *  versa): the PDUs of one call that extend the head commit together, in one transaction (`receiveAll`,
 *  a transaction's PDUs). Off the head an event carries the state before and the room's current state once
 *  it is in — the resolution of the states after the forward extremities — which the persister stores as
 *  groups and writes to the current state, memberships and the current state's history (what sync reads).
 *
 * Missing prev_events or auth_events: refused (`missing_prev_events` / `missing_auth_events`), unless the
 * caller passes a `RemoteEventSource`: then missing-events.ts fetches them (get_missing_events, or for a
 * gap the state before the event, handed back here as `RemoteStateBefore` and treated as a fork's state
 * before: the current state is then resolved with it) and the event is checked again.
 *
 * Spam checkers (federated-spam-check.ts) see every event that passed steps 1–3, before the room lock.
 */
import type { Cradle } from '../../../core/container.js';
import {
  checkEventAgainstAuthEvents,
  checkEventAuth,
  type AuthCheckOptions,
  type AuthEvent,
  type AuthStateLookup,
} from '../../../core/protocol/auth-rules/index.js';
import { computeEventId } from '../../../core/protocol/event-id.js';
import { referenceIds } from '../../../core/protocol/event-references.js';
import { serverNameOf } from '../../../core/protocol/identifiers.js';
import { checkPduFormat } from '../../../core/protocol/pdu-format.js';
import { stateKey, type StateKey } from '../../../core/protocol/pdu.js';
import { checkPduOnReceipt, type PduAccepted } from '../../../core/protocol/pdu-receipt.js';
import {
  signedByVerifiedServers,
  verifyThirdPartyInviteSignature,
  type VerifyKeyLookup,
} from '../../../core/protocol/pdu-signatures.js';
import type { StoredEvent } from '../store/event-rows.js';
import type { EventStore } from '../store/event-store.js';
import type { SoftFailedStore } from '../store/soft-failed-store.js';
import { HeadMoved, type EventPersister, type EventToPersist } from './event-persister.js';
import { federatedSpamVerdict } from './federated-spam-check.js';
import type { MissingEvents, RemoteEventSource, RemoteStateBefore } from './missing-events.js';
import { extremitiesAfter } from './persisted-rows.js';
import type { RoomHead, RoomHeads } from './room-heads.js';
import { asAuthEvent, idsOf, RoomStateResolver, type StateBefore } from './state-resolver.js';

/** A PDU to run through the pipeline. */
export interface IncomingPdu {
  /** The PDU as received (unvalidated JSON). */
  readonly pdu: unknown;
  /** Where the signatures' keys come from (federation passes its key ring). */
  readonly keys: VerifyKeyLookup;
  /** The room the PDU must belong to (a join's room); by default the PDU's own `room_id`. */
  readonly roomId?: string;
  /**
   * The server that sent the PDU (a transaction's origin): its sender must belong to it, else the PDU is
   * refused (`origin_mismatch`) before any key is fetched.
   */
  readonly origin?: string;
  /**
   * Where to fetch what the PDU references and we lack (the sending server, through federation): without
   * it, missing prev/auth events refuse the PDU. See missing-events.ts.
   */
  readonly remote?: RemoteEventSource;
  /** The PDU came from get_missing_events: a gap before it is filled with state, not another pull. */
  readonly pulled?: boolean;
}

/**
 * What became of a PDU:
 * - `persisted`: in the room (its redacted form when `redacted`);
 * - `rejected`: stored with `reason`, changes nothing (auth failed against its auth events or the state
 *   before it);
 * - `soft_failed`: kept aside, never served (the current state does not allow it);
 * - `already_known`: we had it (persisted, rejected or soft-failed) already;
 * - `refused`: dropped, nothing stored (`code` says why: a format or signature failure, an unknown room,
 *   missing prev/auth events, an unsupported fork).
 */
export type ReceiveOutcome =
  | {
      readonly status: 'persisted';
      readonly eventId: string;
      readonly redacted: boolean;
      readonly streamOrdering: number;
    }
  | { readonly status: 'rejected'; readonly eventId: string; readonly reason: string }
  | { readonly status: 'soft_failed'; readonly eventId: string; readonly reason: string }
  | { readonly status: 'already_known'; readonly eventId: string }
  | {
      readonly status: 'refused';
      readonly eventId?: string;
      readonly code: RefusalCode;
      readonly reason: string;
    };

/** One PDU's result: its outcome, or the error that kept it from one (transient: not a verdict). */
export type ReceiveResult = { readonly outcome: ReceiveOutcome } | { readonly error: unknown };

export type RefusalCode =
  | 'format'
  | 'signatures'
  | 'unknown_room'
  | 'origin_mismatch'
  | 'missing_prev_events'
  | 'missing_auth_events'
  | 'dropped_by_policy';

type Deps = Pick<
  Cradle,
  | 'roomsHeads'
  | 'roomsEventStore'
  | 'roomsStateResolver'
  | 'roomsSoftFailedStore'
  | 'roomsEventPersister'
  | 'roomsMissingEvents'
  | 'logger'
  | 'spamCheckers'
>;

/** How often a commit beaten by another process (HeadMoved) is retried on the reloaded head. */
const MAX_ATTEMPTS = 5;

export class FederatedEventReceiver {
  private readonly heads: RoomHeads;
  private readonly eventStore: EventStore;
  private readonly resolver: RoomStateResolver;
  private readonly softFailed: SoftFailedStore;
  private readonly persister: EventPersister;
  private readonly missing: MissingEvents;
  private readonly spamCheckers: Deps['spamCheckers'];

  constructor({
    roomsHeads,
    roomsEventStore,
    roomsStateResolver,
    roomsSoftFailedStore,
    roomsEventPersister,
    roomsMissingEvents,
    spamCheckers,
  }: Deps) {
    this.heads = roomsHeads;
    this.eventStore = roomsEventStore;
    this.resolver = roomsStateResolver;
    this.softFailed = roomsSoftFailedStore;
    this.persister = roomsEventPersister;
    this.missing = roomsMissingEvents;
    this.spamCheckers = spamCheckers;
  }

  /**
   * Runs one PDU through the pipeline and stores it as its checks decide. Throws only when a key lookup
   * throws or the database fails (a transient failure is not a verdict on the event).
   */
  async receive(input: IncomingPdu): Promise<ReceiveOutcome> {
    const [result] = await this.receiveAll([input]);
    if (result && 'error' in result) throw result.error;
    return result!.outcome;
  }

  /**
   * Runs PDUs through the pipeline, those of one room in the given order: steps 1–3 for all of them at
   * once, then, under each room's lock, steps 4–6 for each on the head the previous ones left, the accepted
   * (and rejected) ones of a run on the head committed together in one `persistEvents` call — one
   * transaction instead of one per PDU. A PDU off the head (a fork) commits the run before it and goes
   * alone. One result per input, in order: its outcome, or the error that kept it from one (a key server
   * down, the database failing: not a verdict on the event).
   */
  async receiveAll(inputs: readonly IncomingPdu[]): Promise<ReceiveResult[]> {
    const results: ReceiveResult[] = new Array<ReceiveResult>(inputs.length);
    const byRoom = new Map<string, RunEntry[]>();
    const checked = await Promise.allSettled(inputs.map((input) => this.checkOnReceipt(input)));
    checked.forEach((c, index) => {
      if (c.status === 'rejected') results[index] = { error: c.reason };
      else if ('outcome' in c.value) results[index] = { outcome: c.value.outcome };
      else {
        const list = byRoom.get(c.value.roomId) ?? [];
        list.push({ index, verdict: c.value.verdict });
        byRoom.set(c.value.roomId, list);
      }
    });
    for (const [roomId, run] of byRoom) {
      await this.runUnderLock(roomId, run, results);
      // What a PDU lacks is fetched from the server that sent it (outside the room lock: it talks to that
      // server), oldest PDU first; then it is checked again.
      for (const entry of run) {
        const input = inputs[entry.index]!;
        const first = results[entry.index];
        if (!input.remote || !first || !('outcome' in first) || !lacksEvents(first.outcome)) continue;
        try {
          const remoteState = await this.missing.fill(roomId, entry.verdict, input, (next) =>
            this.receive(next),
          );
          await this.runUnderLock(roomId, [{ ...entry, remoteState }], results);
        } catch (error) {
          results[entry.index] = { error };
        }
      }
    }
    return results;
  }

  /** Steps 4–6 and the commit of a room's run under its lock, retried when another process moved the head. */
  private async runUnderLock(
    roomId: string,
    run: readonly RunEntry[],
    results: ReceiveResult[],
  ): Promise<void> {
    const stored: StoredEvent[] = [];
    try {
      const outcomes = await this.heads.withRoomLock(roomId, async () => {
        for (let attempt = 1; ; attempt++) {
          try {
            return await this.commitRun(roomId, run, stored);
          } catch (err) {
            if (!(err instanceof HeadMoved) || attempt >= MAX_ATTEMPTS) throw err;
          }
        }
      });
      run.forEach(({ index }, i) => (results[index] = { outcome: outcomes[i]! }));
    } catch (error) {
      for (const { index } of run) results[index] = { error };
    }
    for (const s of stored) await this.persister.announce(s);
  }

  /** The id of a well-formed PDU of a room this server is in. */
  async eventIdOf(raw: unknown): Promise<string | undefined> {
    const roomId = roomIdOf(raw);
    const head = roomId === undefined ? undefined : await this.heads.get(roomId);
    if (!head) return undefined;
    const format = checkPduFormat(raw, head.version);
    return format.ok ? computeEventId(format.pdu, head.version) : undefined;
  }

  /** Steps 1–3: the room, the origin, then format, signatures and content hash (core/protocol). */
  private async checkOnReceipt(
    input: IncomingPdu,
  ): Promise<{ outcome: ReceiveOutcome } | { roomId: string; verdict: PduAccepted }> {
    const raw = input.pdu;
    const roomId = input.roomId ?? roomIdOf(raw);
    if (roomId === undefined) return { outcome: refuse('format', 'the PDU has no room_id') };
    const head = await this.heads.get(roomId);
    if (!head) return { outcome: refuse('unknown_room', `this server is not in room ${roomId}`) };

    if (input.origin !== undefined) {
      const format = checkPduFormat(raw, head.version);
      if (format.ok && serverNameOf(format.pdu.sender) !== input.origin) {
        return {
          outcome: refuse(
            'origin_mismatch',
            `the sender ${format.pdu.sender} does not belong to the origin ${input.origin}`,
            computeEventId(format.pdu, head.version),
          ),
        };
      }
    }
    const verdict = await checkPduOnReceipt({
      pdu: raw,
      roomVersion: head.version,
      keys: input.keys,
      roomId,
    });
    if (!verdict.accepted) {
      const code = verdict.stage === 'format' ? 'format' : 'signatures';
      return { outcome: refuse(code, verdict.reason, verdict.eventId) };
    }
    const spam = await federatedSpamVerdict(this.spamCheckers, this.softFailed, roomId, verdict);
    if (spam) return { outcome: spam };
    return { roomId, verdict };
  }

  /**
   * Steps 4–6 for a room's run of PDUs and their commit; under the room lock. Events on the head wait in
   * `pending` (the head advanced in memory after each, as the persister will) and commit together; an
   * event off the head first commits them, then is checked against the stored DAG and commits alone.
   * Committed events are added to `stored` (for `announce`, also when a later commit fails).
   */
  private async commitRun(
    roomId: string,
    run: readonly RunEntry[],
    stored: StoredEvent[],
  ): Promise<ReceiveOutcome[]> {
    const outcomes: ReceiveOutcome[] = [];
    let head = await this.heads.get(roomId);
    if (!head)
      return run.map(({ verdict }) => refuse('unknown_room', `not in room ${roomId}`, verdict.eventId));
    // One read for every event of the run (replays) and every event they reference.
    const ids = new Set<string>();
    for (const { verdict } of run) {
      ids.add(verdict.eventId);
      for (const id of referenceIds(verdict.pdu.prev_events)) ids.add(id);
      for (const id of referenceIds(verdict.pdu.auth_events)) ids.add(id);
    }
    const known = new Map<string, KnownEvent>(await this.eventStore.getEvents([...ids]));
    const softFailed = await this.softFailed.existing([...ids]);

    let pending: { event: EventToPersist; redacted: boolean; index: number }[] = [];
    let speculative = head; // the head once the pending events are in
    const flush = async (): Promise<void> => {
      if (pending.length === 0) return;
      const persisted = await this.persister.persistEvents(
        head!,
        pending.map((p) => p.event),
      );
      persisted.forEach((p, i) => {
        const { event, redacted, index } = pending[i]!;
        stored.push(p.stored);
        outcomes[index] = outcomeOf(event, redacted, p.stored);
        known.set(event.eventId, p.stored);
      });
      head = persisted[persisted.length - 1]!.head;
      speculative = head;
      pending = [];
    };

    for (const [index, { verdict, remoteState }] of run.entries()) {
      const prevIds = referenceIds(verdict.pdu.prev_events);
      if (pending.length > 0 && !RoomStateResolver.extendsHead(speculative, prevIds)) await flush();
      const decision = await this.decide(speculative, verdict, known, softFailed, remoteState);
      if ('outcome' in decision) {
        outcomes[index] = decision.outcome;
        if (decision.outcome.status === 'soft_failed') softFailed.add(verdict.eventId);
        continue;
      }
      const { event } = decision;
      pending.push({ event, redacted: verdict.redacted, index });
      known.set(event.eventId, {
        ...event,
        roomId,
        stateGroup: null,
        rejectedReason: event.rejectedReason ?? null,
      });
      if (event.forked)
        await flush(); // its state is computed on the stored DAG: it goes alone
      else speculative = advanced(speculative, event);
    }
    await flush();
    return outcomes;
  }

  /**
   * Steps 3 (what we have of it already and of what it references) to 6 for one event on `head`: an
   * outcome, or the event to commit (rejected ones too: stored with why, changing nothing).
   */
  private async decide(
    head: RoomHead,
    verdict: PduAccepted,
    known: ReadonlyMap<string, KnownEvent>,
    softFailed: ReadonlySet<string>,
    remoteState?: RemoteStateBefore,
  ): Promise<{ outcome: ReceiveOutcome } | { event: EventToPersist }> {
    const { eventId, pdu } = verdict;
    const roomId = head.roomId;
    if (known.has(eventId) || softFailed.has(eventId))
      return { outcome: { status: 'already_known', eventId } };
    const prevIds = referenceIds(pdu.prev_events);
    const authIds = referenceIds(pdu.auth_events);
    const foreign = (id: string): boolean => known.get(id)?.roomId !== roomId;
    const missingPrev = prevIds.filter(foreign);
    // A gap before the event: checked against the state another server gave (missing-events.ts).
    const gapState = missingPrev.length > 0 ? remoteState : undefined;
    if (missingPrev.length > 0 && !gapState) {
      return {
        outcome: refuse('missing_prev_events', `missing prev_events ${missingPrev.join(', ')}`, eventId),
      };
    }
    const missingAuth = authIds.filter(foreign);
    if (missingAuth.length > 0) {
      return {
        outcome: refuse('missing_auth_events', `missing auth_events ${missingAuth.join(', ')}`, eventId),
      };
    }

    const event: AuthEvent = { eventId, pdu };
    const options = this.authOptions(verdict, head);
    const authEvents = authIds.map((id) => asAuthEvent(known.get(id)!));
    const createEvent = head.state.get(stateKey('m.room.create', ''));
    const rejected = (reason: string, before?: StateBefore) => ({
      event: { eventId, pdu, rejectedReason: reason, ...(before ? { forked: { before } } : {}) },
    });
    // The state before the event: the head's when its prev_events are exactly the forward extremities;
    // else the state after its one prev_event, or the resolution of the states after each (a fork or a
    // merge of forks). Computed before step 4: a rejected event is stored with it too.
    const before: StateBefore | undefined = gapState
      ? { events: gapState.state }
      : RoomStateResolver.extendsHead(head, prevIds)
        ? undefined
        : await this.resolver.stateBefore(
            head,
            prevIds.map((id) => known.get(id)!),
          );

    // Step 4: the event's own auth events.
    const own = checkEventAgainstAuthEvents(event, authEvents, head.version, { ...options, createEvent });
    if (!own.allowed) return rejected(`auth_events: ${own.reason}`, before);

    // Step 5: the state before the event.
    const atBefore = checkEventAuth(event, lookupIn(before?.events ?? head.state), head.version, options);
    if (!atBefore.allowed) return rejected(`state before the event: ${atBefore.reason}`, before);
    if (!before) return { event: { eventId, pdu } };

    // Step 6: off the head, the current state (on it, the same as the state before).
    const now = checkEventAuth(event, lookupIn(head.state), head.version, options);
    if (!now.allowed) {
      await this.softFailed.insert({ eventId, roomId, pdu, reason: now.reason });
      return { outcome: { status: 'soft_failed', eventId, reason: now.reason } };
    }
    const after = idsOf(before.events);
    if (pdu.state_key !== undefined) after.set(stateKey(pdu.type, pdu.state_key), eventId);
    const current = await this.resolver.currentStateWith(head, prevIds, after, event);
    return { event: { eventId, pdu, forked: { before, current } } };
  }

  /** The auth rules' signature checks for a received event and the events it is checked against. */
  private authOptions(verdict: PduAccepted, head: RoomHead): AuthCheckOptions {
    const verified = signedByVerifiedServers(head.version);
    return {
      isSignedBy: (e, server) =>
        e.eventId === verdict.eventId ? verdict.signedBy.includes(server) : verified(e, server),
      verifySignature: verifyThirdPartyInviteSignature,
    };
  }
}

/** A PDU of a room's run: its place in the call, its checked form and, after a gap, the remote state. */
interface RunEntry {
  readonly index: number;
  readonly verdict: PduAccepted;
  readonly remoteState?: RemoteStateBefore;
}

/** Refused for lack of prev or auth events: what missing-events.ts can fetch. */
function lacksEvents(outcome: ReceiveOutcome): boolean {
  return (
    outcome.status === 'refused' &&
    (outcome.code === 'missing_prev_events' || outcome.code === 'missing_auth_events')
  );
}

/** What the pipeline needs of an event it has (stored, or committed with the current run). */
type KnownEvent = Pick<StoredEvent, 'eventId' | 'roomId' | 'pdu' | 'rejectedReason' | 'stateGroup'>;

/** The head after an event on it is committed (what the persister will make of it, state group aside). */
function advanced(head: RoomHead, event: EventToPersist): RoomHead {
  const { pdu } = event;
  const accepted = event.rejectedReason === undefined;
  const state =
    accepted && pdu.state_key !== undefined
      ? new Map(head.state).set(stateKey(pdu.type, pdu.state_key), { eventId: event.eventId, pdu })
      : head.state;
  return {
    ...head,
    maxDepth: Math.max(head.maxDepth, pdu.depth),
    extremities: accepted ? extremitiesAfter(head, event) : head.extremities,
    state,
  };
}

function outcomeOf(event: EventToPersist, redacted: boolean, stored: StoredEvent): ReceiveOutcome {
  const { eventId, rejectedReason } = event;
  if (rejectedReason !== undefined) return { status: 'rejected', eventId, reason: rejectedReason };
  return { status: 'persisted', eventId, redacted, streamOrdering: stored.streamOrdering };
}

function refuse(code: RefusalCode, reason: string, eventId?: string): ReceiveOutcome {
  return { status: 'refused', code, reason, ...(eventId === undefined ? {} : { eventId }) };
}

function roomIdOf(raw: unknown): string | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const roomId = (raw as { room_id?: unknown }).room_id;
  return typeof roomId === 'string' ? roomId : undefined;
}

function lookupIn(state: ReadonlyMap<StateKey, AuthEvent>): AuthStateLookup {
  return (type, key) => state.get(stateKey(type, key));
}
