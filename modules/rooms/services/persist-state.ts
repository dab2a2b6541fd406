/**
 * The state part of persisting one event (event-persister.ts `persistOne`): which state group the event
 * gets (the state after it), which group becomes the room's current state, and which current-state
 * entries change. Two cases:
 *
 * - on the head (local sends, and received events whose prev_events are exactly the forward extremities):
 *   the state before is the head's state; a state event adds a one-entry delta and becomes current;
 * - off the head (a fork off an older event, or a merge of forks — the receive pipeline computed the state
 *   before and the resolved current state, state-resolver.ts): the state before is stored as a group when
 *   it is a resolution, the state after as a delta off it, and the current state as its own group when it
 *   is neither the head's nor the state after the event.
 */
import type { AuthEvent } from '../../../core/protocol/auth-rules/index.js';
import type { StateKey } from '../../../core/protocol/pdu.js';
import type { Sql } from '../../../core/storage/sql.js';
import type { ServerUnsigned } from '../store/event-rows.js';
import type { StateStore } from '../store/state-store.js';
import type { HeadStateEvent, RoomHead } from './room-heads.js';
import { idsOf, type StateBefore, type StateGroupState } from './state-resolver.js';

/** The state around an event off the head's line, computed by the receive pipeline before the commit. */
export interface ForkedState {
  readonly before: StateBefore;
  /**
   * The room's current state once the event is in: the resolution of the forward extremities' states;
   * undefined when the event becomes the only extremity (the state after it). Ignored for a rejected event.
   */
  readonly current?: ReadonlyMap<StateKey, HeadStateEvent>;
}

export interface StateStep {
  /** The state after the event. */
  readonly eventGroup: number | null;
  /** The room's current state after the event, and its delta chain length. */
  readonly currentGroup: number | null;
  readonly chainLength: number;
  readonly state: Map<StateKey, HeadStateEvent>;
  /** Current-state entries that change (undefined: the key leaves the state). */
  readonly changes: ReadonlyMap<StateKey, HeadStateEvent | undefined>;
  /** Whether state resolution changed the current state (not only the event appended). */
  readonly resolved: boolean;
  readonly unsigned?: ServerUnsigned;
}

interface StepInput {
  readonly head: RoomHead;
  readonly eventId: string;
  readonly event: AuthEvent;
  /** The event's (type, state_key) when it is an accepted state event. */
  readonly key: StateKey | undefined;
  readonly accepted: boolean;
}

/** On the head: a state event is a one-entry delta off the current group and becomes current. */
export async function headStateStep(stateStore: StateStore, input: StepInput, sql: Sql): Promise<StateStep> {
  const { head, key, eventId, event } = input;
  const unchanged: StateStep = {
    eventGroup: head.stateGroup,
    currentGroup: head.stateGroup,
    chainLength: head.chainLength,
    state: head.state,
    changes: new Map(),
    resolved: false,
  };
  if (!key) return unchanged;
  const group = await stateStore.createStateGroup(
    head.roomId,
    head.stateGroup,
    head.chainLength,
    new Map<StateKey, string>([[key, eventId]]),
    () => idsOf(head.state).set(key, eventId),
    sql,
  );
  return {
    eventGroup: group.id,
    currentGroup: group.id,
    chainLength: group.chainLength,
    state: new Map(head.state).set(key, event),
    changes: new Map([[key, event]]),
    resolved: false,
    unsigned: unsignedOf(head.state.get(key)),
  };
}

/** Off the head: see the file comment. */
export async function forkedStateStep(
  stateStore: StateStore,
  input: StepInput,
  forked: ForkedState,
  sql: Sql,
): Promise<StateStep> {
  const { head, key, eventId, event, accepted } = input;
  const { before } = forked;
  const beforeGroup =
    before.group ?? (await writeGroup(stateStore, head.roomId, before.base, idsOf(before.events), sql));
  let eventGroup = beforeGroup;
  if (key) {
    eventGroup = await writeGroup(
      stateStore,
      head.roomId,
      beforeGroup,
      new Map(beforeGroup.state).set(key, eventId),
      sql,
    );
  }
  const unsigned = key ? unsignedOf(before.events.get(key)) : undefined;
  if (!accepted) {
    return {
      eventGroup: eventGroup.id,
      currentGroup: head.stateGroup,
      chainLength: head.chainLength,
      state: head.state,
      changes: new Map(),
      resolved: false,
    };
  }
  const current = new Map(forked.current ?? (key ? new Map(before.events).set(key, event) : before.events));
  const currentIds = idsOf(current);
  const changes = new Map<StateKey, HeadStateEvent | undefined>();
  for (const [k, e] of current) if (head.state.get(k)?.eventId !== e.eventId) changes.set(k, e);
  for (const k of head.state.keys()) if (!current.has(k)) changes.set(k, undefined);

  let currentGroup: { id: number; chainLength: number };
  if (changes.size === 0 && head.stateGroup !== null) {
    currentGroup = { id: head.stateGroup, chainLength: head.chainLength };
  } else if (sameState(currentIds, eventGroup.state)) {
    currentGroup = eventGroup;
  } else {
    currentGroup = await writeGroup(stateStore, head.roomId, eventGroup, currentIds, sql);
  }
  const appendedOnly = [...changes].every(([k, e]) => k === key && e?.eventId === eventId);
  return {
    eventGroup: eventGroup.id,
    currentGroup: currentGroup.id,
    chainLength: currentGroup.chainLength,
    state: current,
    changes,
    resolved: !appendedOnly,
    unsigned,
  };
}

/** Stores `target` as a group: the entries that differ off `base` (a snapshot if a key of `base` is gone). */
async function writeGroup(
  stateStore: StateStore,
  roomId: string,
  base: StateGroupState | undefined,
  target: Map<StateKey, string>,
  sql: Sql,
): Promise<StateGroupState> {
  if (!base || base.id < 0) {
    const group = await stateStore.createStateGroup(roomId, null, 0, target, () => target, sql);
    return { ...group, state: target };
  }
  const delta = new Map<StateKey, string>();
  for (const [k, id] of target) if (base.state.get(k) !== id) delta.set(k, id);
  let removed = false;
  for (const k of base.state.keys()) if (!target.has(k)) removed = true;
  const group = await stateStore.createStateGroup(
    roomId,
    base.id,
    base.chainLength,
    delta,
    () => target,
    sql,
    {
      snapshot: removed,
    },
  );
  return { ...group, state: target };
}

function sameState(a: ReadonlyMap<StateKey, string>, b: ReadonlyMap<StateKey, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, id] of a) if (b.get(k) !== id) return false;
  return true;
}

/** The server's `unsigned` of a state event that replaces `replaced`. */
function unsignedOf(replaced: AuthEvent | undefined): ServerUnsigned | undefined {
  if (!replaced) return undefined;
  return {
    replaces_state: replaced.eventId,
    prev_content: replaced.pdu.content,
    prev_sender: replaced.pdu.sender,
  };
}
