/** Checks on the signed JSON objects clients upload (device keys, one-time keys, cross-signing keys). */
import { decodeBase64 } from '../../../core/protocol/base64.js';
import { canonicalJson, omitKeys } from '../../../core/protocol/canonical-json.js';
import { verifyJsonSignature } from '../../../core/protocol/signing.js';

export type JsonRecord = Record<string, unknown>;

export function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether `obj` carries a valid ed25519 signature by `signer`'s key `keyId` (public key in unpadded base64). */
export function hasValidSignature(
  obj: JsonRecord,
  signer: string,
  keyId: string,
  publicKey: string,
): boolean {
  const key = decodeBase64(publicKey);
  if (!key) return false;
  try {
    return verifyJsonSignature(obj, signer, keyId, key);
  } catch {
    return false; // not representable as canonical JSON: it cannot carry a valid signature either
  }
}

/** The signatures `signer` put on `obj`: key id → signature. */
export function signaturesBy(obj: JsonRecord, signer: string): Record<string, string> {
  const all = obj['signatures'];
  if (!isRecord(all)) return {};
  const mine = all[signer];
  if (!isRecord(mine)) return {};
  const out: Record<string, string> = {};
  for (const [keyId, sig] of Object.entries(mine)) if (typeof sig === 'string') out[keyId] = sig;
  return out;
}

/** Whether two signed objects are the same apart from their signatures and unsigned data. */
export function sameSignedContent(a: JsonRecord, b: JsonRecord): boolean {
  try {
    return (
      canonicalJson(omitKeys(a, ['signatures', 'unsigned'])) ===
      canonicalJson(omitKeys(b, ['signatures', 'unsigned']))
    );
  } catch {
    return false;
  }
}

/** The one ed25519 public key of a cross-signing key object (`keys: {"ed25519:<pub>": "<pub>"}`). */
export function crossSigningPublicKey(key: JsonRecord): string | undefined {
  const keys = key['keys'];
  if (!isRecord(keys)) return undefined;
  const entries = Object.entries(keys);
  if (entries.length !== 1) return undefined;
  const [keyId, value] = entries[0] as [string, unknown];
  if (typeof value !== 'string' || keyId !== `ed25519:${value}`) return undefined;
  return value;
}

/** Merges extra signatures into an object's `signatures` (a copy). */
export function withSignatures(
  obj: JsonRecord,
  extra: readonly { signer: string; keyId: string; signature: string }[],
): JsonRecord {
  if (extra.length === 0) return obj;
  const signatures: Record<string, Record<string, unknown>> = {};
  const existing = obj['signatures'];
  if (isRecord(existing))
    for (const [user, sigs] of Object.entries(existing)) if (isRecord(sigs)) signatures[user] = { ...sigs };
  for (const s of extra) (signatures[s.signer] ??= {})[s.keyId] = s.signature;
  return { ...obj, signatures };
}
