/**
 * State resolution entry point: picks the algorithm the room version uses (v1, v2 or v2.1).
 *
 * Boundary: resolution is asynchronous only because it loads events through
 * {@link StateResLoader.loadEvents} (batched, each event at most once per call); everything else is
 * pure. The result is a fresh map of `(type, state_key)` → event id.
 */
import { resolveRoomVersion } from '../auth-rules/check-event-auth.js';
import type { StateKey, StateMap } from '../pdu.js';
import type { RoomVersion } from '../room-versions.js';
import type { ResolveOptions, StateResLoader } from './types.js';
import { resolveV1 } from './v1.js';
import { resolveV2 } from './v2.js';

/** Resolves `stateSets` (the states after each of an event's `prev_events`) into one state. */
export async function resolveState(
  roomVersion: RoomVersion | string,
  stateSets: readonly StateMap[],
  loader: StateResLoader,
  options: ResolveOptions = {},
): Promise<Map<StateKey, string>> {
  const version = resolveRoomVersion(roomVersion);
  if (stateSets.length === 0) return new Map();
  if (stateSets.length === 1) return new Map(stateSets[0]);
  return version.stateRes === 'v1'
    ? resolveV1(version, stateSets, loader, options)
    : resolveV2(version, stateSets, loader, options);
}
