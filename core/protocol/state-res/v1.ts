/**
 * State resolution for room version 1 (rooms/v1.md "State resolution"). Known to reset state; kept
 * for the rooms that still use it.
 */
import { createHash } from 'node:crypto';
import { authEventsSelection } from '../auth-events-selection.js';
import { checkEventAuth } from '../auth-rules/check-event-auth.js';
import type { AuthEvent, AuthStateLookup } from '../auth-rules/types.js';
import { splitStateKey, stateKey, type StateKey, type StateMap } from '../pdu.js';
import type { RoomVersion } from '../room-versions.js';
import { EventCache } from './event-cache.js';
import { separateV1 } from './separate.js';
import type { ResolveOptions, StateResLoader } from './types.js';

function sha1Hex(s: string): string {
  return createHash('sha1').update(s, 'utf8').digest('hex');
}

interface Candidate {
  readonly event: AuthEvent;
  readonly depth: number;
  readonly sha1: string;
}

export async function resolveV1(
  version: RoomVersion,
  stateSets: readonly StateMap[],
  loader: StateResLoader,
  options: ResolveOptions,
): Promise<Map<StateKey, string>> {
  const { unconflicted, conflicted } = separateV1(stateSets);
  if (conflicted.size === 0) return unconflicted;
  const cache = new EventCache(loader);

  const conflictedIds = new Set<string>();
  for (const ids of conflicted.values()) for (const id of ids) conflictedIds.add(id);
  await cache.load(conflictedIds);
  // The state the checks read: whatever the conflicted events' auth keys hold in the unconflicted state.
  const authKeys = new Set<StateKey>([stateKey('m.room.create', '')]);
  for (const id of conflictedIds) {
    const e = cache.get(id);
    if (e) for (const k of authEventsSelection(e.pdu, version)) authKeys.add(k);
  }
  await cache.load([...authKeys].flatMap((k) => unconflicted.get(k) ?? []));

  const resolved = new Map(unconflicted);
  const lookupIn =
    (state: ReadonlyMap<StateKey, string>): AuthStateLookup =>
    (type, key) => {
      const id = state.get(stateKey(type, key));
      return id === undefined ? undefined : cache.get(id);
    };
  const allowedIn = (e: AuthEvent, state: ReadonlyMap<StateKey, string>) =>
    checkEventAuth(e, lookupIn(state), version, options).allowed;
  const candidates = (ids: Iterable<string>): Candidate[] => {
    const out: Candidate[] = [];
    for (const id of ids) {
      const event = cache.get(id);
      if (event) out.push({ event, depth: event.pdu.depth, sha1: sha1Hex(id) });
    }
    return out;
  };

  // Auth-affecting events: ascending depth, then descending sha1(event_id); take the first, then
  // each following one while it is allowed by the state so far.
  const resolveAuthKey = (
    key: StateKey,
    ids: Set<string>,
    state: Map<StateKey, string>,
  ): string | undefined => {
    const list = candidates(ids).sort(
      (a, b) => a.depth - b.depth || (a.sha1 < b.sha1 ? 1 : a.sha1 > b.sha1 ? -1 : 0),
    );
    const first = list[0];
    if (!first) return undefined;
    const trial = new Map(state);
    trial.set(key, first.event.eventId);
    for (const c of list.slice(1)) {
      if (!allowedIn(c.event, trial)) break;
      trial.set(key, c.event.eventId);
    }
    return trial.get(key);
  };

  const passes: ((type: string) => boolean)[] = [
    (t) => t === 'm.room.power_levels',
    (t) => t === 'm.room.join_rules',
    (t) => t === 'm.room.member',
  ];
  const done = new Set<StateKey>();
  for (const matches of passes) {
    // Keys within one pass are resolved against the same state, then applied together.
    const results: [StateKey, string][] = [];
    for (const [key, ids] of conflicted) {
      if (!matches(splitStateKey(key)[0])) continue;
      done.add(key);
      const winner = resolveAuthKey(key, ids, resolved);
      if (winner !== undefined) results.push([key, winner]);
    }
    for (const [k, id] of results) resolved.set(k, id);
  }

  // Everything else: the deepest event (lowest sha1 on ties) that passes auth in the state so far.
  // The spec leaves "none passes" open; like other implementations we then keep the last candidate.
  const results: [StateKey, string][] = [];
  for (const [key, ids] of conflicted) {
    if (done.has(key)) continue;
    const list = candidates(ids).sort(
      (a, b) => b.depth - a.depth || (a.sha1 < b.sha1 ? -1 : a.sha1 > b.sha1 ? 1 : 0),
    );
    const winner = list.find((c) => allowedIn(c.event, resolved)) ?? list[list.length - 1];
    if (winner) results.push([key, winner.event.eventId]);
  }
  for (const [k, id] of results) resolved.set(k, id);
  return resolved;
}
