/**
 * Event hashes (spec server-server-api "Calculating the content hash for an event" and "Calculating the
 * reference hash for an event"). Canonical JSON is strict or lenient per the room version.
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

/**
 * sha256 of the full, unredacted event without `unsigned`, `signatures` and `hashes`.
 * @throws CanonicalJsonError when the event breaks the room version's canonical JSON rules.
 */
export function computeContentHash(pdu: Readonly<PduJson>, roomVersion: RoomVersion): Buffer {
  const body = omitKeys(pdu, ['unsigned', 'signatures', 'hashes']);
  return sha256(canonicalJson(body, { strict: roomVersion.strictCanonicalJson }));
}

/**
 * sha256 of the redacted event without `signatures` and `unsigned`: the basis of v3+ event ids, v12
 * room ids and v1–2 event references.
 * @throws CanonicalJsonError when the event breaks the room version's canonical JSON rules.
 */
export function computeReferenceHash(pdu: Readonly<PduJson>, roomVersion: RoomVersion): Buffer {
  const body = omitKeys(redactEvent(pdu, roomVersion), ['signatures', 'unsigned']);
  return sha256(canonicalJson(body, { strict: roomVersion.strictCanonicalJson }));
}

/** Returns a copy of `pdu` with `hashes.sha256` set to its content hash (other hash algorithms kept). */
export function addContentHash(pdu: Readonly<PduJson>, roomVersion: RoomVersion): PduJson {
  const sha = encodeBase64(computeContentHash(pdu, roomVersion));
  return { ...pdu, hashes: { ...(isRecord(pdu.hashes) ? pdu.hashes : {}), sha256: sha } };
}

/**
 * True if `hashes.sha256` decodes to the event's content hash. False means the sender gave a redacted
 * (or tampered) copy: the receiver should keep the redacted form.
 * @throws CanonicalJsonError when the event breaks the room version's canonical JSON rules.
 */
export function verifyContentHash(pdu: Readonly<PduJson>, roomVersion: RoomVersion): boolean {
  const claimed: unknown = isRecord(pdu.hashes) ? pdu.hashes['sha256'] : undefined;
  if (typeof claimed !== 'string') return false;
  const bytes = decodeBase64(claimed);
  return bytes !== undefined && computeContentHash(pdu, roomVersion).equals(bytes);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
