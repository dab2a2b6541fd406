/** Cross-signing: uploading the master, self-signing and user-signing keys, and signatures on keys. */
import { MatrixError } from '../../../core/errors.js';
import type {
  CrossSigningKeyType,
  CrossSigningStore,
  StoredSignature,
} from '../store/cross-signing-store.js';
import type { KeysStore } from '../store/keys-store.js';
import type { DeviceListsService } from './device-lists-service.js';
import {
  crossSigningPublicKey,
  hasValidSignature,
  isRecord,
  sameSignedContent,
  signaturesBy,
  type JsonRecord,
} from './signed-json.js';

export interface CrossSigningUpload {
  readonly master_key?: JsonRecord;
  readonly self_signing_key?: JsonRecord;
  readonly user_signing_key?: JsonRecord;
}

/** The part of the auth module's API this service reads. */
export interface DeviceIds {
  listDevices(userId: string): Promise<readonly { readonly deviceId: string }[]>;
}

const FIELDS: readonly [keyof CrossSigningUpload, CrossSigningKeyType][] = [
  ['master_key', 'master'],
  ['self_signing_key', 'self_signing'],
  ['user_signing_key', 'user_signing'],
];

interface Failure {
  errcode: string;
  error: string;
}

export class CrossSigningService {
  private readonly store: CrossSigningStore;
  private readonly keys: KeysStore;
  private readonly deviceLists: DeviceListsService;
  private readonly devices: () => DeviceIds;

  constructor(deps: {
    e2eeCrossSigningStore: CrossSigningStore;
    e2eeKeysStore: KeysStore;
    e2eeDeviceLists: DeviceListsService;
    devices: () => DeviceIds;
  }) {
    this.store = deps.e2eeCrossSigningStore;
    this.keys = deps.e2eeKeysStore;
    this.deviceLists = deps.e2eeDeviceLists;
    this.devices = deps.devices;
  }

  /**
   * Whether this upload needs user-interactive auth (spec: not when the user has no master key yet, nor
   * when every key in the request is exactly the one already stored).
   */
  async needsAuth(userId: string, upload: CrossSigningUpload): Promise<boolean> {
    const existing = await this.store.keysOf(userId);
    if (!existing.has('master')) return false;
    for (const [field, type] of FIELDS) {
      const key = upload[field];
      if (key === undefined) continue;
      const stored = existing.get(type);
      if (!stored || JSON.stringify(stored.key) !== JSON.stringify(key)) return true;
    }
    return false;
  }

  async upload(userId: string, upload: CrossSigningUpload): Promise<void> {
    const existing = await this.store.keysOf(userId);
    const parsed = new Map<CrossSigningKeyType, { key: JsonRecord; publicKey: string }>();
    for (const [field, type] of FIELDS) {
      const key = upload[field];
      if (key === undefined) continue;
      parsed.set(type, { key, publicKey: checkKeyShape(key, userId, type, field) });
    }
    const master = parsed.get('master') ?? existing.get('master');
    for (const type of ['self_signing', 'user_signing'] as const) {
      const sub = parsed.get(type);
      if (!sub) continue;
      if (!master) throw new MatrixError(400, 'M_MISSING_PARAM', 'No master signing key available');
      if (!hasValidSignature(sub.key, userId, `ed25519:${master.publicKey}`, master.publicKey))
        throw new MatrixError(400, 'M_INVALID_SIGNATURE', `Invalid signature on the ${type} key`);
    }
    const deviceIds = new Set((await this.devices().listDevices(userId)).map((d) => d.deviceId));
    for (const { publicKey } of parsed.values())
      if (deviceIds.has(publicKey)) throw new MatrixError(403, 'M_FORBIDDEN', 'Key ID in use by a device');
    let changed = false;
    for (const [type, { key, publicKey }] of parsed) {
      const stored = existing.get(type);
      if (stored && JSON.stringify(stored.key) === JSON.stringify(key)) continue;
      await this.store.setKey(userId, type, publicKey, key);
      changed = true;
    }
    if (changed) await this.deviceLists.deviceChanged(userId);
  }

  /**
   * POST /keys/signatures/upload: every signature is checked against the key that made it; what fails is
   * reported per user and key id, the rest is stored.
   */
  async uploadSignatures(
    requester: string,
    body: Readonly<Record<string, Readonly<Record<string, unknown>>>>,
  ): Promise<Record<string, Record<string, Failure>>> {
    const failures: Record<string, Record<string, Failure>> = {};
    const own = await this.store.keysOf(requester);
    let selfChanged = false;
    let othersSigned = false;
    for (const [targetUser, objects] of Object.entries(body)) {
      for (const [keyId, obj] of Object.entries(objects)) {
        const fail = (errcode: string, error: string) => {
          (failures[targetUser] ??= {})[keyId] = { errcode, error };
        };
        if (!isRecord(obj)) {
          fail('M_INVALID_PARAM', 'Not a signed JSON object');
          continue;
        }
        const outcome =
          targetUser === requester
            ? await this.signOwnKey(requester, keyId, obj, own)
            : await this.signOtherMaster(requester, targetUser, keyId, obj, own);
        if ('errcode' in outcome) {
          fail(outcome.errcode, outcome.error);
          continue;
        }
        await this.store.addSignatures(outcome.signatures);
        if (targetUser === requester) selfChanged = true;
        else othersSigned = true;
      }
    }
    if (selfChanged) await this.deviceLists.deviceChanged(requester);
    else if (othersSigned) await this.deviceLists.selfChanged(requester);
    return failures;
  }

  /** The requester signs one of their devices (with the self-signing key) or their master key (with a device). */
  private async signOwnKey(
    userId: string,
    keyId: string,
    obj: JsonRecord,
    own: Map<CrossSigningKeyType, { publicKey: string; key: JsonRecord }>,
  ): Promise<{ signatures: StoredSignature[] } | Failure> {
    const sigs = signaturesBy(obj, userId);
    const master = own.get('master');
    if (master && keyId === master.publicKey) {
      if (!sameSignedContent(obj, master.key))
        return { errcode: 'M_INVALID_SIGNATURE', error: 'The object does not match the stored master key' };
      const out: StoredSignature[] = [];
      for (const [sigKeyId, signature] of Object.entries(sigs)) {
        if (sigKeyId === `ed25519:${master.publicKey}`) continue; // its own self-signature
        const deviceId = sigKeyId.startsWith('ed25519:') ? sigKeyId.slice('ed25519:'.length) : '';
        const device = await this.keys.deviceKeys(userId, deviceId);
        if (!device) return { errcode: 'M_INVALID_SIGNATURE', error: `Unknown signing device ${sigKeyId}` };
        if (!hasValidSignature(obj, userId, sigKeyId, device.ed25519Key))
          return { errcode: 'M_INVALID_SIGNATURE', error: 'Invalid signature' };
        out.push({
          signerUserId: userId,
          signerKeyId: sigKeyId,
          targetUserId: userId,
          targetKeyId: keyId,
          signature,
        });
      }
      if (out.length === 0)
        return { errcode: 'M_INVALID_SIGNATURE', error: 'No device signature on the master key' };
      return { signatures: out };
    }
    const device = await this.keys.deviceKeys(userId, keyId);
    if (!device) return { errcode: 'M_NOT_FOUND', error: `Unknown device or key ${keyId}` };
    const selfSigning = own.get('self_signing');
    if (!selfSigning) return { errcode: 'M_MISSING_PARAM', error: 'No self-signing key uploaded' };
    if (!sameSignedContent(obj, device.keys))
      return { errcode: 'M_INVALID_SIGNATURE', error: 'The object does not match the stored device keys' };
    const sskId = `ed25519:${selfSigning.publicKey}`;
    const signature = sigs[sskId];
    if (signature === undefined)
      return { errcode: 'M_INVALID_SIGNATURE', error: 'Missing signature by the self-signing key' };
    if (!hasValidSignature(obj, userId, sskId, selfSigning.publicKey))
      return { errcode: 'M_INVALID_SIGNATURE', error: 'Invalid signature' };
    return {
      signatures: [
        { signerUserId: userId, signerKeyId: sskId, targetUserId: userId, targetKeyId: keyId, signature },
      ],
    };
  }

  /** The requester signs another user's master key with their user-signing key. */
  private async signOtherMaster(
    requester: string,
    targetUser: string,
    keyId: string,
    obj: JsonRecord,
    own: Map<CrossSigningKeyType, { publicKey: string; key: JsonRecord }>,
  ): Promise<{ signatures: StoredSignature[] } | Failure> {
    const userSigning = own.get('user_signing');
    if (!userSigning) return { errcode: 'M_MISSING_PARAM', error: 'No user-signing key uploaded' };
    const master = (await this.store.keysOf(targetUser)).get('master');
    if (!master || master.publicKey !== keyId)
      return { errcode: 'M_NOT_FOUND', error: `${keyId} is not the master key of ${targetUser}` };
    if (!sameSignedContent(obj, master.key))
      return { errcode: 'M_INVALID_SIGNATURE', error: 'The object does not match the stored master key' };
    const uskId = `ed25519:${userSigning.publicKey}`;
    const signature = signaturesBy(obj, requester)[uskId];
    if (signature === undefined)
      return { errcode: 'M_INVALID_SIGNATURE', error: 'Missing signature by the user-signing key' };
    if (!hasValidSignature(obj, requester, uskId, userSigning.publicKey))
      return { errcode: 'M_INVALID_SIGNATURE', error: 'Invalid signature' };
    return {
      signatures: [
        {
          signerUserId: requester,
          signerKeyId: uskId,
          targetUserId: targetUser,
          targetKeyId: keyId,
          signature,
        },
      ],
    };
  }
}

/** Checks a cross-signing key object and returns its public key (400 M_INVALID_PARAM otherwise). */
function checkKeyShape(key: JsonRecord, userId: string, type: CrossSigningKeyType, field: string): string {
  if (key['user_id'] !== userId)
    throw new MatrixError(400, 'M_INVALID_PARAM', `${field}.user_id must be ${userId}`);
  const usage = key['usage'];
  if (!Array.isArray(usage) || !usage.includes(type))
    throw new MatrixError(400, 'M_INVALID_PARAM', `${field}.usage must include ${type}`);
  const publicKey = crossSigningPublicKey(key);
  if (publicKey === undefined)
    throw new MatrixError(400, 'M_INVALID_PARAM', `${field}.keys must hold exactly one ed25519 key`);
  return publicKey;
}
