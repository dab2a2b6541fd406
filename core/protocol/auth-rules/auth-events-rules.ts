/**
 * The rule "considering the event's auth_events" (rule 2, or 3 in v12) and the check of an event
 * against its own auth events (step 4 of server-server-api.md "Checks performed on receipt of a PDU").
 */
import { authEventsSelection } from '../auth-events-selection.js';
import { stateKey, type StateKey } from '../pdu.js';
import type { RoomVersion } from '../room-versions.js';
import { checkEventAuth, resolveRoomVersion } from './check-event-auth.js';
import { referenceIds } from './identifiers.js';
import { ALLOWED, reject, type AuthCheckOptions, type AuthEvent, type AuthResult } from './types.js';

/**
 * Checks the event's `auth_events` list: every entry present in `authEvents`, no duplicate
 * `(type, state_key)`, only keys the auth events selection allows, none rejected, the create event
 * present (before v12) and every entry in the event's room.
 */
export function checkAuthEventsList(
  event: AuthEvent,
  authEvents: readonly AuthEvent[],
  roomVersion: RoomVersion | string,
): AuthResult {
  const version = resolveRoomVersion(roomVersion);
  const byId = new Map(authEvents.map((e) => [e.eventId, e]));
  const allowedKeys = new Set(authEventsSelection(event.pdu, version));
  const seen = new Set<StateKey>();
  let hasCreate = false;
  for (const id of referenceIds(event.pdu.auth_events)) {
    const auth = byId.get(id);
    if (!auth) return reject('auth_events.missing', `auth events: auth event ${id} is not available`);
    if (typeof auth.pdu.state_key !== 'string') {
      return reject('auth_events.not_state', `auth events: ${id} is not a state event`);
    }
    const key = stateKey(auth.pdu.type, auth.pdu.state_key);
    if (seen.has(key)) {
      return reject(
        'auth_events.duplicate',
        `auth events: more than one ${auth.pdu.type} with state_key "${auth.pdu.state_key}"`,
      );
    }
    seen.add(key);
    if (!allowedKeys.has(key)) {
      return reject(
        'auth_events.unexpected',
        `auth events: ${auth.pdu.type} with state_key "${auth.pdu.state_key}" is not one the auth events selection allows`,
      );
    }
    if (auth.rejected) return reject('auth_events.rejected', `auth events: ${id} was rejected`);
    if (auth.pdu.type === 'm.room.create') hasCreate = true;
    if (auth.pdu.room_id !== event.pdu.room_id) {
      return reject('auth_events.room_id', `auth events: ${id} belongs to another room`);
    }
  }
  if (!version.roomIdIsCreateEventHash && !hasCreate) {
    return reject(
      'auth_events.no_create',
      'auth events: there is no m.room.create event among the auth events',
    );
  }
  return ALLOWED;
}

/**
 * Authorises `event` against its own auth events: the auth_events list rule, then every other rule
 * with the auth events as the state. In v12+ pass the room's create event as `createEvent`.
 */
export function checkEventAgainstAuthEvents(
  event: AuthEvent,
  authEvents: readonly AuthEvent[],
  roomVersion: RoomVersion | string,
  options: AuthCheckOptions & { readonly createEvent?: AuthEvent } = {},
): AuthResult {
  const version = resolveRoomVersion(roomVersion);
  if (event.pdu.type === 'm.room.create' && event.pdu.state_key === '') {
    return checkEventAuth(event, () => undefined, version, options);
  }
  const list = checkAuthEventsList(event, authEvents, version);
  if (!list.allowed) return list;
  // Only the events the PDU actually cites count, whatever else the caller passed.
  const cited = new Set(referenceIds(event.pdu.auth_events));
  const byKey = new Map<StateKey, AuthEvent>();
  for (const e of authEvents) {
    if (cited.has(e.eventId) && typeof e.pdu.state_key === 'string')
      byKey.set(stateKey(e.pdu.type, e.pdu.state_key), e);
  }
  if (options.createEvent && !byKey.has(stateKey('m.room.create', ''))) {
    byKey.set(stateKey('m.room.create', ''), options.createEvent);
  }
  return checkEventAuth(event, (type, key) => byKey.get(stateKey(type, key)), version, options);
}
