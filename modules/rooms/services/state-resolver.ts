/**
 * State where forks of the room DAG meet (server-server-api "Room State Resolution", the room version's
 * algorithm: v1 for room versions 1–2, v2 for 3–11, v2.1 for 12 — core/protocol/state-res):
 *
 * - the state before an event is the state after its single prev_event, or the resolution of the states
 *   after each of its prev_events (the state after an event is its state group, `rooms_events.state_group`);
 * - the room's current state is the resolution of the states after its forward extremities.
 *
 * Only events that leave the head's line need this: an event whose prev_events are exactly the forward
 * extremities has the head's state before it, and the send path of local events never comes here.
 * Rejected events take part in no resolved state (the loader marks them; resolution drops them).
 */
import type { Cradle } from '../../../core/container.js';
import type { AuthCheckOptions, AuthEvent } from '../../../core/protocol/auth-rules/index.js';
import type { StateKey } from '../../../core/protocol/pdu.js';
import {
  signedByVerifiedServers,
  verifyThirdPartyInviteSignature,
} from '../../../core/protocol/pdu-signatures.js';
import type { RoomVersion } from '../../../core/protocol/room-versions.js';
import { resolveState } from '../../../core/protocol/state-res/index.js';
import type { StoredEvent } from '../store/event-rows.js';
import type { EventStore } from '../store/event-store.js';
import type { StateStore } from '../store/state-store.js';
import type { HeadStateEvent, RoomHead } from './room-heads.js';

/** A stored state group: its id, its delta chain length and the state it holds. */
export interface StateGroupState {
  readonly id: number;
  readonly chainLength: number;
  readonly state: ReadonlyMap<StateKey, string>;
}

/** The state before an event off the head's line (see `ForkedState` in event-persister.ts). */
export interface StateBefore {
  /** (type, state_key) → the event. */
  readonly events: ReadonlyMap<StateKey, HeadStateEvent>;
  /** The group holding exactly this state (a single prev_event's), else undefined (a resolution). */
  readonly group?: StateGroupState;
  /** Without `group`: a prev_event's group to store this state as a delta off. */
  readonly base?: StateGroupState;
}

type Deps = Pick<Cradle, 'roomsEventStore' | 'roomsStateStore'>;

export class RoomStateResolver {
  private readonly eventStore: EventStore;
  private readonly stateStore: StateStore;

  constructor({ roomsEventStore, roomsStateStore }: Deps) {
    this.eventStore = roomsEventStore;
    this.stateStore = roomsStateStore;
  }

  /** Whether an event with `prevIds` extends the head: they are exactly the forward extremities. */
  static extendsHead(head: RoomHead, prevIds: readonly string[]): boolean {
    const prev = new Set(prevIds);
    return prev.size === head.extremities.length && head.extremities.every((id) => prev.has(id));
  }

  /**
   * The state before an event whose prev_events are `prev` (stored events of the room, in order): the
   * state after the one prev_event, or the resolution of the states after each.
   */
  async stateBefore(head: RoomHead, prev: readonly Pick<StoredEvent, 'stateGroup'>[]): Promise<StateBefore> {
    const groups = await this.groupsAfter(head, prev);
    if (groups.length === 1) {
      const group = groups[0]!;
      return { events: await this.eventsOf(head, group.state), group };
    }
    const resolved = await this.resolve(
      head.version,
      groups.map((g) => g.state),
    );
    return { events: await this.eventsOf(head, resolved), base: groups[0] };
  }

  /**
   * The room's current state once an event is in whose state after is `after` and whose prev_events are
   * `prevIds`: the resolution of the states after every forward extremity then (the event and the
   * extremities it does not reference). Undefined when the event is the only extremity (then it is `after`).
   */
  async currentStateWith(
    head: RoomHead,
    prevIds: readonly string[],
    after: ReadonlyMap<StateKey, string>,
    event: AuthEvent,
  ): Promise<Map<StateKey, HeadStateEvent> | undefined> {
    const others = head.extremities.filter((id) => !prevIds.includes(id));
    if (others.length === 0) return undefined;
    const stored = await this.eventStore.getEvents(others);
    const groups = await this.groupsAfter(
      head,
      others.flatMap((id) => stored.get(id) ?? []),
    );
    const pending = new Map([[event.eventId, event]]); // not stored yet
    const resolved = await this.resolve(head.version, [after, ...groups.map((g) => g.state)], pending);
    return this.eventsOf(head, resolved, pending);
  }

  /** Resolves state sets with the room version's algorithm, loading events from the store. */
  async resolve(
    version: RoomVersion,
    stateSets: readonly ReadonlyMap<StateKey, string>[],
    pending: ReadonlyMap<string, AuthEvent> = new Map(),
  ): Promise<Map<StateKey, string>> {
    return resolveState(
      version,
      stateSets,
      {
        loadEvents: async (ids) => {
          const out = new Map<string, AuthEvent>();
          for (const id of ids) {
            const e = pending.get(id);
            if (e) out.set(id, e);
          }
          const events = await this.eventStore.getEvents(ids.filter((id) => !out.has(id)));
          for (const [id, e] of events) out.set(id, asAuthEvent(e));
          return out;
        },
      },
      storedEventAuthOptions(version),
    );
  }

  /**
   * The states after `events` (distinct groups once each): an event's state group, the head's state for the
   * head's group (no read). An event without a group has no state (not expected past the create event).
   */
  private async groupsAfter(
    head: RoomHead,
    events: readonly Pick<StoredEvent, 'stateGroup'>[],
  ): Promise<StateGroupState[]> {
    const seen = new Map<number | null, StateGroupState>();
    const out: StateGroupState[] = [];
    for (const e of events) {
      let group = seen.get(e.stateGroup);
      if (!group) {
        group = await this.groupState(head, e.stateGroup);
        seen.set(e.stateGroup, group);
      }
      out.push(group);
    }
    return out;
  }

  private async groupState(head: RoomHead, id: number | null): Promise<StateGroupState> {
    if (id === null) return { id: -1, chainLength: 0, state: new Map() };
    if (id === head.stateGroup) {
      const state = new Map<StateKey, string>();
      for (const [k, e] of head.state) state.set(k, e.eventId);
      return { id, chainLength: head.chainLength, state };
    }
    const [info, state] = await Promise.all([
      this.stateStore.stateGroupInfo(id),
      this.stateStore.stateOfGroup(id),
    ]);
    return { id, chainLength: info?.chainLength ?? 0, state };
  }

  /** The events of a state map: the head's where they are current, the rest read in one go. */
  private async eventsOf(
    head: RoomHead,
    state: ReadonlyMap<StateKey, string>,
    pending: ReadonlyMap<string, AuthEvent> = new Map(),
  ): Promise<Map<StateKey, HeadStateEvent>> {
    const out = new Map<StateKey, HeadStateEvent>();
    const missing: string[] = [];
    for (const [k, id] of state) {
      const current = head.state.get(k);
      const known = current?.eventId === id ? current : pending.get(id);
      if (known) out.set(k, known);
      else missing.push(id);
    }
    if (missing.length === 0) return out;
    const loaded = await this.eventStore.getEvents(missing);
    for (const [k, id] of state) {
      const e = loaded.get(id);
      if (e) out.set(k, { ...asAuthEvent(e), streamOrdering: e.streamOrdering });
    }
    return out;
  }
}

/**
 * The auth checks' signature questions about stored events: their signatures were verified on receipt, so
 * every server the room version requires has signed (as `signedByVerifiedServers` says).
 */
export function storedEventAuthOptions(version: RoomVersion): AuthCheckOptions {
  return { isSignedBy: signedByVerifiedServers(version), verifySignature: verifyThirdPartyInviteSignature };
}

export function asAuthEvent(e: Pick<StoredEvent, 'eventId' | 'pdu' | 'rejectedReason'>): AuthEvent {
  return { eventId: e.eventId, pdu: e.pdu, rejected: e.rejectedReason !== null };
}

/** (type, state_key) → event id of a state map of events. */
export function idsOf(state: ReadonlyMap<StateKey, AuthEvent>): Map<StateKey, string> {
  const out = new Map<StateKey, string>();
  for (const [k, e] of state) out.set(k, e.eventId);
  return out;
}
