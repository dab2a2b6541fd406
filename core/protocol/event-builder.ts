/**
 * Builds a new, hashed and signed PDU in the shape its room version's event format lists
 * (spec rooms/fragments/*-event-format.md, server-server-api "PDUs" and "Signing Events").
 */
import { encodeBase64 } from './base64.js';
import { computeEventId, generateLegacyEventId } from './event-id.js';
import { computeReferenceHash } from './hashes.js';
import type { EventReference, JsonObject, PduJson } from './pdu.js';
import type { RoomVersion } from './room-versions.js';
import { hashAndSignEvent } from './signing.js';
import type { SigningKey } from './signing-key.js';

/** The fields a caller chooses; everything else (hashes, signatures, ids) is derived. */
export interface EventDraft {
  /** Required except on a v12+ `m.room.create` event, where it is ignored (the id derives from it). */
  readonly room_id?: string;
  readonly sender: string;
  readonly type: string;
  readonly state_key?: string;
  readonly content: JsonObject;
  /** Ids, or ready `[id, {sha256}]` pairs for v1–2 (plain ids then need `referenceHashOf`). */
  readonly prev_events: readonly EventReference[];
  readonly auth_events: readonly EventReference[];
  readonly depth: number;
  /** Defaults to now. */
  readonly origin_server_ts?: number;
  /** For `m.room.redaction`: top level before v11, `content.redacts` from v11. */
  readonly redacts?: string;
}

export interface BuildEventInput {
  readonly roomVersion: RoomVersion;
  readonly serverName: string;
  readonly key: SigningKey;
  readonly partial: EventDraft;
  /**
   * v1–2 only: the unpadded base64 reference hash of a referenced event, for plain ids in
   * `prev_events`/`auth_events` (see `referenceHashOf`). Undefined for an unknown id makes the build fail.
   */
  readonly referenceHash?: (eventId: string) => string | undefined;
}

export interface BuiltEvent {
  readonly eventId: string;
  /** The room id: `partial.room_id`, or for a v12+ create event the id it defines. */
  readonly roomId: string;
  readonly pdu: PduJson;
}

/**
 * Assembles, hashes and signs an event. For v1–2 it mints `$random:serverName` and writes tuple
 * references; from v3 the id is the reference hash. `origin` is not written: no current event format
 * lists it.
 * @throws CanonicalJsonError when content breaks the room version's canonical JSON rules (M_BAD_JSON);
 *   Error for a missing `room_id` or an unresolvable v1–2 reference.
 */
export function buildEvent(input: BuildEventInput): BuiltEvent {
  const { roomVersion: rv, partial } = input;
  const isCreate = partial.type === 'm.room.create' && partial.state_key === '';
  const omitRoomId = rv.roomIdIsCreateEventHash && isCreate;
  if (!omitRoomId && partial.room_id === undefined) throw new Error('room_id is required');

  let content = partial.content;
  const pdu: Record<string, unknown> = {};
  if (rv.eventIdFormat === 'v1') pdu['event_id'] = generateLegacyEventId(input.serverName);
  if (!omitRoomId) pdu['room_id'] = partial.room_id;
  pdu['sender'] = partial.sender;
  pdu['type'] = partial.type;
  if (partial.state_key !== undefined) pdu['state_key'] = partial.state_key;
  if (partial.redacts !== undefined) {
    if (rv.redactsInContent) content = { ...content, redacts: partial.redacts };
    else pdu['redacts'] = partial.redacts;
  }
  pdu['content'] = content;
  pdu['origin_server_ts'] = partial.origin_server_ts ?? Date.now();
  pdu['depth'] = partial.depth;
  pdu['prev_events'] = shapeReferences(partial.prev_events, rv, input.referenceHash);
  pdu['auth_events'] = shapeReferences(partial.auth_events, rv, input.referenceHash);
  pdu['hashes'] = {};
  pdu['signatures'] = {};

  const signed = hashAndSignEvent(pdu as PduJson, rv, input.serverName, input.key);
  const eventId = computeEventId(signed, rv);
  const roomId = omitRoomId ? '!' + eventId.slice(1) : (partial.room_id as string);
  return { eventId, roomId, pdu: signed };
}

function shapeReferences(
  refs: readonly EventReference[],
  rv: RoomVersion,
  referenceHash: BuildEventInput['referenceHash'],
): EventReference[] {
  if (!rv.eventReferencesAreTuples) return refs.map((r) => (typeof r === 'string' ? r : r[0]));
  return refs.map((r) => {
    if (typeof r !== 'string') return r;
    const sha256 = referenceHash?.(r);
    if (sha256 === undefined) throw new Error(`no reference hash for ${r}`);
    return [r, { sha256 }];
  });
}

/** The unpadded base64 reference hash used in v1–2 `[id, {sha256}]` references to `pdu`. */
export function referenceHashOf(pdu: Readonly<PduJson>, roomVersion: RoomVersion): string {
  return encodeBase64(computeReferenceHash(pdu, roomVersion));
}
