/**
 * Event ids (spec rooms/fragments/v1-event-ids.md, rooms/v3.md, v4-event-ids.md) and v12 room ids
 * (appendices "Room IDs": the create event's id with `!` as sigil).
 */
import { randomBytes } from 'node:crypto';
import { encodeBase64, encodeBase64Url } from './base64.js';
import { computeReferenceHash } from './hashes.js';
import type { PduJson } from './pdu.js';
import type { RoomVersion } from './room-versions.js';

/**
 * The id of `pdu`: for v1–2 the `event_id` it carries (throws if absent), for v3 `$` + the reference hash
 * in standard base64, for v4+ in URL-safe base64.
 * @throws Error for a v1–2 event without `event_id`; CanonicalJsonError for non-canonical JSON.
 */
export function computeEventId(pdu: Readonly<PduJson>, roomVersion: RoomVersion): string {
  switch (roomVersion.eventIdFormat) {
    case 'v1': {
      if (typeof pdu.event_id !== 'string')
        throw new Error(`room version ${roomVersion.id} events carry event_id`);
      return pdu.event_id;
    }
    case 'v3':
      return '$' + encodeBase64(computeReferenceHash(pdu, roomVersion));
    case 'v4':
      return '$' + encodeBase64Url(computeReferenceHash(pdu, roomVersion));
  }
}

/** A fresh `$opaque:server` id for a v1–2 event: 18 random bytes as URL-safe base64. */
export function generateLegacyEventId(serverName: string): string {
  return `$${encodeBase64Url(randomBytes(18))}:${serverName}`;
}

/**
 * The room id a v12+ `m.room.create` event defines: `!` + its URL-safe reference hash.
 * @throws Error if the version does not derive room ids from create events or `pdu` is no create event.
 */
export function roomIdFromCreateEvent(createPdu: Readonly<PduJson>, roomVersion: RoomVersion): string {
  if (!roomVersion.roomIdIsCreateEventHash) {
    throw new Error(`room version ${roomVersion.id} room ids are not derived from the create event`);
  }
  if (createPdu.type !== 'm.room.create' || createPdu.state_key !== '')
    throw new Error('not an m.room.create event');
  return '!' + encodeBase64Url(computeReferenceHash(createPdu, roomVersion));
}
