/**
 * Checking a `/_matrix/key/v2/server` response (received directly or inside a notary's answer): the server
 * it names, its keys' shape, and its self-signature by at least one of its `verify_keys` (every such
 * signature present must be valid). Pure.
 */
import { decodeBase64 } from '../../../core/protocol/base64.js';
import { isValidServerName } from '../../../core/protocol/identifiers.js';
import { verifyJsonSignature } from '../../../core/protocol/signing.js';
import { CanonicalJsonError } from '../../../core/protocol/canonical-json.js';

/** Keys are trusted at most this far past the time they were fetched (spec: "the lesser of valid_until_ts and 7 days"). */
export const MAX_KEY_VALIDITY_MS = 7 * 86_400_000;

export interface CheckedKey {
  readonly keyId: string;
  readonly verifyKey: string;
  readonly publicKey: Uint8Array;
  readonly validUntilTs: number;
  readonly expired: boolean;
}

export interface CheckedKeyResponse {
  readonly serverName: string;
  /** valid_until_ts as the server gave it. */
  readonly validUntilTs: number;
  readonly keys: readonly CheckedKey[];
}

const KEY_ID = /^ed25519:[A-Za-z0-9_]+$/;
const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Throws an Error saying what is wrong; `now` caps current keys' validity at 7 days. */
export function checkKeyResponse(json: unknown, expectedServer: string, now: number): CheckedKeyResponse {
  if (!isRecord(json)) throw new Error('key response is not a JSON object');
  const serverName = json['server_name'];
  if (serverName !== expectedServer || !isValidServerName(serverName)) {
    throw new Error(`key response is for "${String(serverName)}", not ${expectedServer}`);
  }
  const validUntil = json['valid_until_ts'];
  if (typeof validUntil !== 'number' || !Number.isSafeInteger(validUntil)) {
    throw new Error('valid_until_ts is not an integer');
  }
  const verifyKeys = json['verify_keys'];
  if (!isRecord(verifyKeys)) throw new Error('verify_keys is not an object');
  const keys: CheckedKey[] = [];
  for (const [keyId, entry] of Object.entries(verifyKeys)) {
    if (!keyId.startsWith('ed25519:')) continue; // other algorithms: not understood, ignored
    const text = isRecord(entry) ? entry['key'] : undefined;
    const publicKey = typeof text === 'string' ? decodeBase64(text) : undefined;
    if (!KEY_ID.test(keyId) || !publicKey || publicKey.length !== 32 || typeof text !== 'string') {
      throw new Error(`verify_keys["${keyId}"] is not an ed25519 key`);
    }
    keys.push({
      keyId,
      verifyKey: text.replace(/=+$/, ''),
      publicKey,
      validUntilTs: Math.min(validUntil, now + MAX_KEY_VALIDITY_MS),
      expired: false,
    });
  }
  if (keys.length === 0) throw new Error('verify_keys has no ed25519 key');

  const signatures = isRecord(json['signatures']) ? json['signatures'][serverName] : undefined;
  let signed = false;
  for (const key of keys) {
    if (!isRecord(signatures) || signatures[key.keyId] === undefined) continue;
    let valid = false;
    try {
      valid = verifyJsonSignature(json, serverName, key.keyId, key.publicKey);
    } catch (err) {
      if (!(err instanceof CanonicalJsonError)) throw err;
    }
    if (!valid) throw new Error(`the signature by ${key.keyId} is not valid`);
    signed = true;
  }
  if (!signed) throw new Error(`not signed by any of ${serverName}'s verify_keys`);

  const old = json['old_verify_keys'];
  if (old !== undefined && !isRecord(old)) throw new Error('old_verify_keys is not an object');
  for (const [keyId, entry] of Object.entries(old ?? {})) {
    if (!keyId.startsWith('ed25519:') || keys.some((k) => k.keyId === keyId)) continue;
    const text = isRecord(entry) ? entry['key'] : undefined;
    const expired = isRecord(entry) ? entry['expired_ts'] : undefined;
    const publicKey = typeof text === 'string' ? decodeBase64(text) : undefined;
    if (!KEY_ID.test(keyId) || !publicKey || publicKey.length !== 32 || typeof text !== 'string') {
      throw new Error(`old_verify_keys["${keyId}"] is not an ed25519 key`);
    }
    if (typeof expired !== 'number' || !Number.isSafeInteger(expired)) {
      throw new Error(`old_verify_keys["${keyId}"].expired_ts is not an integer`);
    }
    keys.push({ keyId, verifyKey: text.replace(/=+$/, ''), publicKey, validUntilTs: expired, expired: true });
  }
  return { serverName, validUntilTs: validUntil, keys };
}
