/**
 * The first check on a received PDU (server-server-api "Checks performed on receipt of a PDU", step 1):
 * it must be a valid event of its room version — the event format (data/api/server-server/definitions/
 * pdu_v1 … pdu_v12), the size limits (client-server-api "Size limits") and, from v6, strict canonical
 * JSON (rooms/fragments/v6-canonical-json.md). An event that fails is dropped.
 */
import { CanonicalJsonError, canonicalJson, omitKeys } from './canonical-json.js';
import { isValidEventId, isValidRoomId, parseUserId } from './identifiers.js';
import type { PduJson } from './pdu.js';
import type { RoomVersion } from './room-versions.js';

/** The whole event, as canonical JSON, must fit in this many bytes. */
export const MAX_PDU_BYTES = 65536;
/** `type` and `state_key` are limited to this many bytes (ids have the same limit, by their grammar). */
export const MAX_KEY_BYTES = 255;
export const MAX_PREV_EVENTS = 20;
export const MAX_AUTH_EVENTS = 10;
/** v1–5 depth bound (2^63 - 1); from v6 strict canonical JSON bounds it at 2^53 - 1. */
export const MAX_DEPTH = 2n ** 63n - 1n;

export type PduFormatResult =
  | { readonly ok: true; readonly pdu: PduJson }
  | { readonly ok: false; readonly code: PduFormatCode; readonly reason: string };

/** Why a PDU is not valid for its room version (a stable code for storage and metrics). */
export type PduFormatCode =
  | 'not_object'
  | 'canonical_json'
  | 'too_large'
  | 'missing_field'
  | 'bad_field'
  | 'too_long'
  | 'too_many_references';

function bad(code: PduFormatCode, reason: string): PduFormatResult {
  return { ok: false, code, reason };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isInteger(v: unknown): v is number | bigint {
  return typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v));
}

function bytes(s: string): number {
  return s.length * 3 <= MAX_KEY_BYTES ? s.length : Buffer.byteLength(s, 'utf8');
}

/**
 * Checks that `value` (a parsed PDU, big integers as bigint: see lossless-json.ts) is a valid event of
 * `roomVersion`. The size is measured on the canonical JSON of the event without `unsigned` (which no hash
 * or signature covers and which servers rewrite in transit, as Dendrite strips it before measuring).
 * Identifiers use the historical grammars every server must accept over federation. Whether a v12
 * create event carries a `room_id`, and everything about content, is for the auth rules.
 */
export function checkPduFormat(value: unknown, roomVersion: RoomVersion): PduFormatResult {
  if (!isRecord(value)) return bad('not_object', 'the PDU is not a JSON object');
  const pdu = value;

  let size: number;
  try {
    const strict = roomVersion.strictCanonicalJson;
    size = Buffer.byteLength(canonicalJson(omitKeys(pdu, ['unsigned']), { strict }), 'utf8');
    if (strict && pdu['unsigned'] !== undefined) canonicalJson({ unsigned: pdu['unsigned'] }, { strict });
  } catch (err) {
    if (err instanceof CanonicalJsonError) {
      return bad(
        'canonical_json',
        `the PDU is not canonical JSON for room version ${roomVersion.id}: ${err.message}`,
      );
    }
    throw err;
  }
  if (size > MAX_PDU_BYTES)
    return bad('too_large', `the PDU is ${size} bytes; the limit is ${MAX_PDU_BYTES}`);

  const fields = checkFields(pdu, roomVersion);
  if (fields) return fields;
  const refs = checkReferences(pdu, roomVersion);
  if (refs) return refs;
  return { ok: true, pdu: pdu as unknown as PduJson };
}

function checkFields(pdu: Record<string, unknown>, rv: RoomVersion): PduFormatResult | undefined {
  const isCreate = pdu['type'] === 'm.room.create' && pdu['state_key'] === '';
  const required = ['sender', 'type', 'content', 'origin_server_ts', 'depth', 'hashes', 'signatures'];
  if (!(rv.roomIdIsCreateEventHash && isCreate)) required.push('room_id');
  if (rv.eventIdFormat === 'v1') required.push('event_id');
  required.push('prev_events', 'auth_events');
  for (const key of required) {
    if (pdu[key] === undefined) return bad('missing_field', `the PDU has no ${key}`);
  }

  const { sender, type, content, hashes, signatures } = pdu;
  if (typeof type !== 'string') return bad('bad_field', 'type is not a string');
  if (bytes(type) > MAX_KEY_BYTES) return bad('too_long', `type is longer than ${MAX_KEY_BYTES} bytes`);
  const stateKey = pdu['state_key'];
  if (stateKey !== undefined) {
    if (typeof stateKey !== 'string') return bad('bad_field', 'state_key is not a string');
    if (bytes(stateKey) > MAX_KEY_BYTES) {
      return bad('too_long', `state_key is longer than ${MAX_KEY_BYTES} bytes`);
    }
  }
  if (typeof sender !== 'string' || parseUserId(sender) === undefined) {
    return bad('bad_field', 'sender is not a user id (of at most 255 bytes)');
  }
  const roomId = pdu['room_id'];
  if (roomId !== undefined && (typeof roomId !== 'string' || !isValidRoomId(roomId, rv))) {
    return bad('bad_field', `room_id is not a room id of room version ${rv.id} (of at most 255 bytes)`);
  }
  if (rv.eventIdFormat === 'v1') {
    const eventId = pdu['event_id'];
    if (typeof eventId !== 'string' || !isValidEventId(eventId, rv)) {
      return bad('bad_field', 'event_id is not a $opaque:server event id (of at most 255 bytes)');
    }
  }
  if (!isRecord(content)) return bad('bad_field', 'content is not an object');
  const ts = pdu['origin_server_ts'];
  if (!isInteger(ts)) return bad('bad_field', 'origin_server_ts is not an integer');
  const depth = pdu['depth'];
  if (!isInteger(depth) || depth < 0 || BigInt(depth) > MAX_DEPTH) {
    return bad('bad_field', 'depth is not an integer in [0, 2^63 - 1]');
  }
  if (!isRecord(hashes) || typeof hashes['sha256'] !== 'string') {
    return bad('bad_field', 'hashes is not an object with a sha256 string');
  }
  if (!isRecord(signatures)) return bad('bad_field', 'signatures is not an object');
  for (const [server, sigs] of Object.entries(signatures)) {
    if (!isRecord(sigs) || !Object.values(sigs).every((s) => typeof s === 'string')) {
      return bad('bad_field', `signatures.${server} is not an object of strings`);
    }
  }
  const unsigned = pdu['unsigned'];
  if (unsigned !== undefined && !isRecord(unsigned)) return bad('bad_field', 'unsigned is not an object');
  if (!rv.redactsInContent && pdu['redacts'] !== undefined && typeof pdu['redacts'] !== 'string') {
    return bad('bad_field', 'redacts is not a string');
  }
  return undefined;
}

function checkReferences(pdu: Record<string, unknown>, rv: RoomVersion): PduFormatResult | undefined {
  for (const [key, max] of [
    ['prev_events', MAX_PREV_EVENTS],
    ['auth_events', MAX_AUTH_EVENTS],
  ] as const) {
    const refs = pdu[key];
    if (!Array.isArray(refs)) return bad('bad_field', `${key} is not an array`);
    if (refs.length > max) {
      return bad('too_many_references', `${key} lists ${refs.length} events; the limit is ${max}`);
    }
    for (const ref of refs) {
      if (!isReference(ref, rv)) {
        return bad(
          'bad_field',
          rv.eventReferencesAreTuples
            ? `${key} holds an entry that is not an [event id, {sha256}] pair`
            : `${key} holds an entry that is not a room version ${rv.id} event id`,
        );
      }
    }
  }
  return undefined;
}

function isReference(ref: unknown, rv: RoomVersion): boolean {
  if (!rv.eventReferencesAreTuples) return typeof ref === 'string' && isValidEventId(ref, rv);
  if (!Array.isArray(ref) || ref.length !== 2) return false;
  const [id, hashes] = ref as unknown[];
  return (
    typeof id === 'string' &&
    isValidEventId(id, rv) &&
    isRecord(hashes) &&
    typeof hashes['sha256'] === 'string'
  );
}
