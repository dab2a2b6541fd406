/**
 * Rules for `m.room.create` (rule 1 in every room version) and, for v12+, the check that an event's
 * `room_id` names an accepted create event.
 */
import { domainOf, isValidUserId } from './identifiers.js';
import { getRoomVersion, type RoomVersion } from '../room-versions.js';
import { ALLOWED, reject, type AuthEvent, type AuthResult } from './types.js';

/** Auth rule 1: whether a create event is acceptable on its own. */
export function checkCreateEvent(event: AuthEvent, version: RoomVersion): AuthResult {
  const { pdu } = event;
  if (Array.isArray(pdu.prev_events) && pdu.prev_events.length > 0) {
    return reject('create.prev_events', 'm.room.create: a create event must not have prev_events');
  }
  if (version.roomIdIsCreateEventHash) {
    if (pdu.room_id !== undefined) {
      return reject(
        'create.room_id',
        'm.room.create: in this room version the create event must not have a room_id',
      );
    }
  } else {
    const roomDomain = typeof pdu.room_id === 'string' ? domainOf(pdu.room_id) : undefined;
    if (roomDomain === undefined || roomDomain !== domainOf(pdu.sender)) {
      return reject(
        'create.room_id_domain',
        "m.room.create: the room id's domain does not match the sender's domain",
      );
    }
  }
  const roomVersion = pdu.content['room_version'];
  if (roomVersion !== undefined && (typeof roomVersion !== 'string' || !getRoomVersion(roomVersion))) {
    return reject(
      'create.room_version',
      'm.room.create: content.room_version is not a recognised room version',
    );
  }
  if (!version.implicitRoomCreator && pdu.content['creator'] === undefined) {
    return reject('create.creator', 'm.room.create: content has no creator property');
  }
  if (version.privilegedCreators) {
    const extra = pdu.content['additional_creators'];
    if (
      extra !== undefined &&
      !(Array.isArray(extra) && extra.every((u) => typeof u === 'string' && isValidUserId(u)))
    ) {
      return reject(
        'create.additional_creators',
        'm.room.create: additional_creators must be an array of valid user ids',
      );
    }
  }
  return ALLOWED;
}

/** The create event id a v12+ room id stands for: `!hash` names the event `$hash`. */
export function createEventIdForRoomId(roomId: string): string | undefined {
  return roomId.startsWith('!') ? `$${roomId.slice(1)}` : undefined;
}

/** v12+ rule 2: the event's `room_id` must be the id of an accepted create event, with `!` for `$`. */
export function checkRoomIdNamesCreate(event: AuthEvent, create: AuthEvent | undefined): AuthResult {
  const roomId = event.pdu.room_id;
  const expected = typeof roomId === 'string' ? createEventIdForRoomId(roomId) : undefined;
  if (
    !create ||
    expected === undefined ||
    create.eventId !== expected ||
    create.pdu.type !== 'm.room.create'
  ) {
    return reject('room_id.create', "room_id: the room id is not the id of the room's m.room.create event");
  }
  if (create.rejected)
    return reject('room_id.create_rejected', 'room_id: the m.room.create event was rejected');
  return ALLOWED;
}
