/**
 * Signature checks on a received PDU (server-server-api "Validating hashes and signatures on received
 * events", rooms/fragments/v5-signing-requirements.md): every server the event needs (see
 * `serversRequiredToSign`) must have signed its redacted form with a key this server can find, and, where
 * the room version enforces key validity (v5+), that key must be valid at the event's `origin_server_ts`.
 * Keys come through an injected {@link VerifyKeyLookup}, so this stays free of I/O.
 */
import type { AuthEvent } from './auth-rules/types.js';
import { decodeBase64 } from './base64.js';
import type { PduJson } from './pdu.js';
import type { RoomVersion } from './room-versions.js';
import {
  optionalSigningServer,
  serversRequiredToSign,
  verifyEventSignature,
  verifyJsonSignature,
} from './signing.js';

/** A server's public verify key, as the key store knows it. */
export interface ServerVerifyKey {
  /** The 32-byte ed25519 public key. */
  readonly publicKey: Uint8Array;
  /**
   * Until when (ms since the epoch) the key may sign: for a current key its `valid_until_ts`, which the key
   * store caps at 7 days after it fetched the key (v5 signing requirements); for an old key its
   * `expired_ts`.
   */
  readonly validUntilTs: number;
}

/** Where the checks find servers' keys (the federation key store: cache, direct fetch, notaries). */
export interface VerifyKeyLookup {
  /**
   * The key `keyId` of `serverName`, or undefined when it cannot be found (unknown key, server down: the
   * spec says such signatures are skipped). `minimumValidUntilTs` is the validity the check needs (the
   * event's `origin_server_ts` where the room version enforces key validity, else 0): a store holding an
   * older copy that expires sooner should refetch (`minimum_valid_until_ts` in a notary query). Throwing
   * aborts the check (a transient failure is not a verdict on the event).
   */
  getVerifyKey(
    serverName: string,
    keyId: string,
    minimumValidUntilTs: number,
  ): ServerVerifyKey | undefined | Promise<ServerVerifyKey | undefined>;
}

/** The keys a PDU's checks will ask for, so a caller can fetch a whole transaction's keys in one go. */
export interface KeyRequest {
  readonly serverName: string;
  readonly keyIds: readonly string[];
  readonly minimumValidUntilTs: number;
}

export type SignatureCheckResult =
  | { readonly ok: true; readonly servers: readonly string[] }
  | {
      readonly ok: false;
      readonly code: SignatureFailureCode;
      readonly server: string;
      readonly reason: string;
    };

/**
 * `unsigned`: no ed25519 signature from the server at all; `no_usable_key`: none of its keys could be found
 * (or each had expired before the event); `bad_signature`: a known, valid key's signature does not verify.
 */
export type SignatureFailureCode = 'unsigned' | 'no_usable_key' | 'bad_signature';

/** The validity a signing key needs for this event: its `origin_server_ts` from v5, else none. */
export function minimumKeyValidity(pdu: Readonly<PduJson>, roomVersion: RoomVersion): number {
  if (!roomVersion.enforceKeyValidity) return 0;
  const ts: unknown = pdu.origin_server_ts;
  return typeof ts === 'number' ? ts : typeof ts === 'bigint' ? Number(ts) : 0;
}

function ed25519KeyIds(pdu: Readonly<PduJson>, server: string): string[] {
  const sigs: unknown = isRecord(pdu.signatures) ? pdu.signatures[server] : undefined;
  return isRecord(sigs) ? Object.keys(sigs).filter((k) => k.startsWith('ed25519:')) : [];
}

/** The keys `verifyPduSignatures` will look up for `pdu`: one request per required server. */
export function keyRequestsFor(pdu: Readonly<PduJson>, roomVersion: RoomVersion): KeyRequest[] {
  const minimumValidUntilTs = minimumKeyValidity(pdu, roomVersion);
  return serversRequiredToSign(pdu, roomVersion).map((serverName) => ({
    serverName,
    keyIds: ed25519KeyIds(pdu, serverName),
    minimumValidUntilTs,
  }));
}

/**
 * Checks the signatures of every server `pdu` needs (Synapse's rule, which the spec's text describes):
 * for each, every ed25519 signature whose key is found and not expired must verify, and at least one must.
 * Signatures of unknown keys, keys expired before the event (v5+), and other servers are ignored. Passes
 * for a redacted copy of a validly signed event, as signatures cover the redacted form. `servers` on
 * success also names the authoriser's server of a non-join member event when its signature verified
 * (`optionalSigningServer`): what the auth rules' `isSignedBy` needs right after receipt.
 */
export async function verifyPduSignatures(
  pdu: Readonly<PduJson>,
  roomVersion: RoomVersion,
  keys: VerifyKeyLookup,
): Promise<SignatureCheckResult> {
  const servers = serversRequiredToSign(pdu, roomVersion);
  const minimum = minimumKeyValidity(pdu, roomVersion);
  for (const server of servers) {
    const failure = await checkServer(pdu, roomVersion, server, minimum, keys);
    if (failure) return failure;
  }
  const optional = optionalSigningServer(pdu, roomVersion);
  if (optional !== undefined && !servers.includes(optional)) {
    const failure = await checkServer(pdu, roomVersion, optional, minimum, keys);
    if (!failure) return { ok: true, servers: [...servers, optional] };
  }
  return { ok: true, servers };
}

type SignatureFailure = Extract<SignatureCheckResult, { ok: false }>;

async function checkServer(
  pdu: Readonly<PduJson>,
  roomVersion: RoomVersion,
  server: string,
  minimum: number,
  keys: VerifyKeyLookup,
): Promise<SignatureFailure | undefined> {
  const keyIds = ed25519KeyIds(pdu, server);
  if (keyIds.length === 0) {
    return { ok: false, code: 'unsigned', server, reason: `the event is not signed by ${server}` };
  }
  let verified = false;
  for (const keyId of keyIds) {
    const key = await keys.getVerifyKey(server, keyId, minimum);
    if (!key) continue;
    if (roomVersion.enforceKeyValidity && key.validUntilTs < minimum) continue;
    if (!verifyEventSignature(pdu, roomVersion, server, keyId, key.publicKey)) {
      return {
        ok: false,
        code: 'bad_signature',
        server,
        reason: `the signature of ${server} with ${keyId} does not verify`,
      };
    }
    verified = true;
  }
  if (verified) return undefined;
  const validity = roomVersion.enforceKeyValidity ? ' valid at the event’s origin_server_ts' : '';
  return {
    ok: false,
    code: 'no_usable_key',
    server,
    reason: `no key${validity} was found for any signature of ${server} (${keyIds.join(', ')})`,
  };
}

/**
 * An `isSignedBy` for the auth rules (join_authorised_via_users_server) over events that passed
 * `verifyPduSignatures` (or `checkPduOnReceipt`) earlier: the servers required there signed them. A
 * non-join member event naming an authoriser counts as signed by it only through the receipt verdict's
 * `signedBy` (use that while it is at hand).
 */
export function signedByVerifiedServers(
  roomVersion: RoomVersion,
): (event: Pick<AuthEvent, 'pdu'>, serverName: string) => boolean {
  return (event, serverName) => serversRequiredToSign(event.pdu, roomVersion).includes(serverName);
}

/**
 * The auth rules' `verifySignature` for third-party invites: whether `signed` (a `third_party_invite.signed`
 * object) carries a valid ed25519 signature from `server` with the unpadded-base64 `publicKey` of an
 * `m.room.third_party_invite` event. The key id is not published with the key, so every ed25519 key id the
 * server signed with is tried.
 */
export function verifyThirdPartyInviteSignature(
  signed: Readonly<Record<string, unknown>>,
  server: string,
  publicKey: string,
): boolean {
  const key = decodeBase64(publicKey);
  if (!key) return false;
  const sigs = signed['signatures'];
  const byServer = isRecord(sigs) ? sigs[server] : undefined;
  if (!isRecord(byServer)) return false;
  return Object.keys(byServer).some(
    (keyId) => keyId.startsWith('ed25519:') && verifyJsonSignature(signed, server, keyId, key),
  );
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
