/** The iterative auth checks algorithm (spec: rooms/fragments/v2-state-res.md). */
import { authEventsSelection } from '../auth-events-selection.js';
import { checkEventAuth } from '../auth-rules/check-event-auth.js';
import type { AuthEvent, AuthStateLookup } from '../auth-rules/types.js';
import { stateKey, type StateKey } from '../pdu.js';
import type { RoomVersion } from '../room-versions.js';
import { authIds } from './auth-chain.js';
import type { EventCache } from './event-cache.js';
import { createEventIdFor } from './power-ordering.js';
import type { ResolveOptions } from './types.js';

/**
 * Applies each event of `ids`, in order, to `base` if the auth rules allow it against the state built
 * so far. A key the state lacks is answered from the event's own auth events (v12+: the create event
 * from the room id). Rejected events are never used as auth events; an event that was rejected on
 * receipt is itself still considered, as the spec requires.
 */
export async function iterativeAuthChecks(
  cache: EventCache,
  version: RoomVersion,
  ids: readonly string[],
  base: ReadonlyMap<StateKey, string>,
  options: ResolveOptions,
): Promise<Map<StateKey, string>> {
  const resolved = new Map(base);

  const needed: string[] = [];
  for (const id of ids) {
    const e = cache.get(id);
    if (!e) continue;
    needed.push(...authIds(e));
    const createId = createEventIdFor(e, version);
    if (createId !== undefined) needed.push(createId);
    for (const key of authEventsSelection(e.pdu, version)) {
      const fromBase = base.get(key);
      if (fromBase !== undefined) needed.push(fromBase);
    }
    const createKey = base.get(stateKey('m.room.create', ''));
    if (createKey !== undefined) needed.push(createKey);
  }
  await cache.load(needed);

  const usable = (id: string | undefined): AuthEvent | undefined => {
    const e = id === undefined ? undefined : cache.get(id);
    return e && !e.rejected ? e : undefined;
  };

  for (const id of ids) {
    const event = cache.get(id);
    if (!event || typeof event.pdu.state_key !== 'string') continue;
    const fromAuthEvents = new Map<StateKey, AuthEvent>();
    for (const a of authIds(event)) {
      const e = usable(a);
      if (e && typeof e.pdu.state_key === 'string')
        fromAuthEvents.set(stateKey(e.pdu.type, e.pdu.state_key), e);
    }
    const createId = createEventIdFor(event, version);
    const lookup: AuthStateLookup = (type, key) => {
      const k = stateKey(type, key);
      const found = usable(resolved.get(k)) ?? fromAuthEvents.get(k);
      if (found) return found;
      if (createId !== undefined && type === 'm.room.create' && key === '') return usable(createId);
      return undefined;
    };
    if (checkEventAuth(event, lookup, version, options).allowed) {
      resolved.set(stateKey(event.pdu.type, event.pdu.state_key), id);
    }
  }
  return resolved;
}
