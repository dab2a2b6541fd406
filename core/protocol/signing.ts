/**
 * Signing and verifying JSON (spec appendices "Signing Details", "Checking for a Signature") and events
 * (server-server-api "Signing Events": events are signed in their redacted form, so a redacted copy
 * still verifies).
 */
import sodium from 'sodium-native';
import { decodeBase64, encodeBase64 } from './base64.js';
import { canonicalJson, omitKeys } from './canonical-json.js';
import { addContentHash } from './hashes.js';
import { serverNameOf } from './identifiers.js';
import type { PduJson, Signatures } from './pdu.js';
import { redactEvent } from './redaction.js';
import type { RoomVersion } from './room-versions.js';
import type { SigningKey } from './signing-key.js';

export interface SignOptions {
  /** Canonical JSON strictness (default false: generic JSON such as key responses and request bodies may
   *  carry old rooms' events; event signing uses the room version instead). */
  readonly strict?: boolean;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function signaturesOf(obj: Readonly<Record<string, unknown>>): Signatures {
  const sigs = obj['signatures'];
  return isRecord(sigs) ? (sigs as Signatures) : {};
}

/** The raw ed25519 signature of `obj` without `signatures` and `unsigned`. */
function detachedSignature(obj: Readonly<Record<string, unknown>>, key: SigningKey, strict: boolean): string {
  const message = Buffer.from(canonicalJson(omitKeys(obj, ['signatures', 'unsigned']), { strict }), 'utf8');
  const signature = Buffer.alloc(sodium.crypto_sign_BYTES);
  sodium.crypto_sign_detached(signature, message, asBuffer(key.secretKey));
  return encodeBase64(signature);
}

function withSignature(
  signatures: Signatures,
  serverName: string,
  keyId: string,
  signature: string,
): Signatures {
  return { ...signatures, [serverName]: { ...signatures[serverName], [keyId]: signature } };
}

/**
 * Returns a copy of `obj` with this server's signature added to its `signatures` (existing signatures and
 * `unsigned` are kept and not covered).
 * @throws CanonicalJsonError if `obj` cannot be encoded.
 */
export function signJson<T extends object>(
  obj: T,
  serverName: string,
  key: SigningKey,
  opts?: SignOptions,
): T & { signatures: Signatures } {
  const record = obj as Readonly<Record<string, unknown>>;
  const signature = detachedSignature(record, key, opts?.strict ?? false);
  return { ...obj, signatures: withSignature(signaturesOf(record), serverName, key.keyId, signature) };
}

/**
 * True if `obj` carries a valid signature by `serverName` with `keyId` (`ed25519:…`) for `publicKey`.
 * Missing signature, unknown algorithm, bad base64 or wrong length all mean false.
 * @throws CanonicalJsonError if `obj` cannot be encoded.
 */
export function verifyJsonSignature(
  obj: Readonly<Record<string, unknown>>,
  serverName: string,
  keyId: string,
  publicKey: Uint8Array,
  opts?: SignOptions,
): boolean {
  if (!keyId.startsWith('ed25519:') || publicKey.length !== sodium.crypto_sign_PUBLICKEYBYTES) return false;
  const encoded: unknown = signaturesOf(obj)[serverName]?.[keyId];
  if (typeof encoded !== 'string') return false;
  const signature = decodeBase64(encoded);
  if (!signature || signature.length !== sodium.crypto_sign_BYTES) return false;
  const message = Buffer.from(
    canonicalJson(omitKeys(obj, ['signatures', 'unsigned']), { strict: opts?.strict ?? false }),
  );
  return sodium.crypto_sign_verify_detached(asBuffer(signature), message, asBuffer(publicKey));
}

/**
 * Signs an event that already has its `hashes`: the signature covers the redacted event and is copied
 * onto the full one.
 * @throws CanonicalJsonError when the event breaks the room version's canonical JSON rules.
 */
export function signEvent(
  pdu: Readonly<PduJson>,
  roomVersion: RoomVersion,
  serverName: string,
  key: SigningKey,
): PduJson {
  const redacted = redactEvent(pdu, roomVersion);
  const signature = detachedSignature(redacted, key, roomVersion.strictCanonicalJson);
  return { ...pdu, signatures: withSignature(signaturesOf(pdu), serverName, key.keyId, signature) };
}

/** Computes the content hash, then signs (spec "Adding hashes and signatures to outgoing events"). */
export function hashAndSignEvent(
  pdu: Readonly<PduJson>,
  roomVersion: RoomVersion,
  serverName: string,
  key: SigningKey,
): PduJson {
  return signEvent(addContentHash(pdu, roomVersion), roomVersion, serverName, key);
}

/**
 * True if the redacted form of `pdu` carries a valid signature by `serverName`/`keyId`. Succeeds for the
 * full event and for a redacted copy alike; check the content hash separately. Like the hashes, the signed
 * bytes are encoded as every server encodes them (big integers with every digit, whatever the room
 * version); strict canonical JSON is a format rule checked on receipt (pdu-format.ts).
 * @throws CanonicalJsonError for values JSON cannot hold (NaN, functions, …).
 */
export function verifyEventSignature(
  pdu: Readonly<PduJson>,
  roomVersion: RoomVersion,
  serverName: string,
  keyId: string,
  publicKey: Uint8Array,
): boolean {
  return verifyJsonSignature(redactEvent(pdu, roomVersion), serverName, keyId, publicKey, { strict: false });
}

/**
 * The servers whose signatures an incoming event needs (server-server-api "Validating hashes and
 * signatures on received events"), as Synapse requires them: the sender's server, except on an invite
 * made from a third-party invite (any server may send it; its `signed` part is checked by the auth rules);
 * for v1–2 also the server in `event_id`; from v8, on a join, the server of
 * `content.join_authorised_via_users_server`. Unparseable ids contribute nothing.
 */
export function serversRequiredToSign(pdu: Readonly<PduJson>, roomVersion: RoomVersion): string[] {
  const servers = new Set<string>();
  const content: Readonly<Record<string, unknown>> = isRecord(pdu.content) ? pdu.content : {};
  const isMember = pdu.type === 'm.room.member';
  const thirdPartyInvite =
    isMember && content['membership'] === 'invite' && content['third_party_invite'] !== undefined;
  const add = (id: unknown) => {
    const server = typeof id === 'string' ? serverNameOf(id) : undefined;
    if (server) servers.add(server);
  };
  if (!thirdPartyInvite) add(pdu.sender);
  if (roomVersion.eventIdFormat === 'v1') add(pdu.event_id);
  if (roomVersion.restrictedJoinRule && isMember && content['membership'] === 'join') {
    add(content['join_authorised_via_users_server']);
  }
  return [...servers];
}

/**
 * From v8, the server of a member event's `join_authorised_via_users_server` when that event is not a
 * join: its signature is not required on receipt (Synapse does not drop such events), but the auth rules
 * still ask whether it is there and valid.
 */
export function optionalSigningServer(pdu: Readonly<PduJson>, roomVersion: RoomVersion): string | undefined {
  if (!roomVersion.restrictedJoinRule || pdu.type !== 'm.room.member' || !isRecord(pdu.content))
    return undefined;
  if (pdu.content['membership'] === 'join') return undefined;
  const authoriser = pdu.content['join_authorised_via_users_server'];
  return typeof authoriser === 'string' ? serverNameOf(authoriser) || undefined : undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
