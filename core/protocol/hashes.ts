/**
 * Event hashes (spec server-server-api "Calculating the content hash for an event" and "Calculating the
 * reference hash for an event").
 *
 * Computing a hash never enforces strict canonical JSON: an event that is already in a room (stored, or
 * received and being checked) must hash as other servers hash it, and they (Synapse first) encode whatever
 * integers the event holds, every digit, whatever the room version. Strictness is a validity rule checked
 * where events enter: `addContentHash` (and so the event builder) for events this server makes, and the
 * receipt format check (pdu-format.ts) for events from elsewhere.
 */
import { createHash } from 'node:crypto';
import { decodeBase64, encodeBase64 } from './base64.js';
import { canonicalJson, omitKeys } from './canonical-json.js';
import type { PduJson } from './pdu.js';
import { redactEvent } from './redaction.js';
import type { RoomVersion } from './room-versions.js';

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function contentHashOf(pdu: Readonly<PduJson>, strict: boolean): Buffer {
  const body = omitKeys(pdu, ['unsigned', 'signatures', 'hashes']);
  return sha256(canonicalJson(body, { strict }));
}

/**
 * sha256 of the full, unredacted event without `unsigned`, `signatures` and `hashes`. Big integers
 * (bigint from `parseJsonLossless`) are hashed with every digit.
 * @throws CanonicalJsonError for values JSON cannot hold (NaN, functions, …).
 */
export function computeContentHash(pdu: Readonly<PduJson>, _roomVersion?: RoomVersion): Buffer {
  return contentHashOf(pdu, false);
}

/**
 * sha256 of the redacted event without `signatures` and `unsigned`: the basis of v3+ event ids, v12
 * room ids and v1–2 event references. Big integers are hashed with every digit, as other servers do.
 * @throws CanonicalJsonError for values JSON cannot hold (NaN, functions, …).
 */
export function computeReferenceHash(pdu: Readonly<PduJson>, roomVersion: RoomVersion): Buffer {
  const body = omitKeys(redactEvent(pdu, roomVersion), ['signatures', 'unsigned']);
  return sha256(canonicalJson(body, { strict: false }));
}

/**
 * Returns a copy of `pdu` with `hashes.sha256` set to its content hash (other hash algorithms kept): the
 * first step of making an event, so it enforces the room version's canonical JSON rules.
 * @throws CanonicalJsonError when the event breaks the room version's canonical JSON rules.
 */
export function addContentHash(pdu: Readonly<PduJson>, roomVersion: RoomVersion): PduJson {
  const sha = encodeBase64(contentHashOf(pdu, roomVersion.strictCanonicalJson));
  return { ...pdu, hashes: { ...(isRecord(pdu.hashes) ? pdu.hashes : {}), sha256: sha } };
}

/**
 * True if `hashes.sha256` decodes to the event's content hash. False means the sender gave a redacted
 * (or tampered) copy: the receiver should keep the redacted form.
 * @throws CanonicalJsonError for values JSON cannot hold (NaN, functions, …).
 */
export function verifyContentHash(pdu: Readonly<PduJson>, _roomVersion?: RoomVersion): boolean {
  const claimed: unknown = isRecord(pdu.hashes) ? pdu.hashes['sha256'] : undefined;
  if (typeof claimed !== 'string') return false;
  const bytes = decodeBase64(claimed);
  return bytes !== undefined && contentHashOf(pdu, false).equals(bytes);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
