/** /keys/upload, /keys/query, /keys/claim: device identity keys, one-time and fallback keys. */
import { MatrixError } from '../../../core/errors.js';
import { serverNameOf } from '../../../core/protocol/identifiers.js';
import type {
  CrossSigningKeyType,
  CrossSigningStore,
  StoredSignature,
} from '../store/cross-signing-store.js';
import type { KeysStore, NewKey } from '../store/keys-store.js';
import type { DeviceListsService } from './device-lists-service.js';
import type { KeyCountsCache } from './key-counts-cache.js';
import { hasValidSignature, isRecord, withSignatures, type JsonRecord } from './signed-json.js';

/** The part of the auth module's API this service reads. */
export interface DeviceDirectory {
  listDevices(
    userId: string,
  ): Promise<readonly { readonly deviceId: string; readonly displayName: string | null }[]>;
}

export interface UploadRequest {
  readonly device_keys?: JsonRecord;
  readonly one_time_keys?: JsonRecord;
  readonly fallback_keys?: JsonRecord;
}

export interface QueryResult {
  device_keys: Record<string, Record<string, JsonRecord>>;
  master_keys: Record<string, JsonRecord>;
  self_signing_keys: Record<string, JsonRecord>;
  user_signing_keys: Record<string, JsonRecord>;
  failures: Record<string, JsonRecord>;
}

const invalid = (message: string) => new MatrixError(400, 'M_INVALID_PARAM', message);
const badSignature = (message: string) => new MatrixError(400, 'M_INVALID_SIGNATURE', message);

export class KeysService {
  private readonly keys: KeysStore;
  private readonly crossSigning: CrossSigningStore;
  private readonly deviceLists: DeviceListsService;
  private readonly counts: KeyCountsCache;
  private readonly devices: () => DeviceDirectory;
  private readonly serverName: string;

  constructor(deps: {
    e2eeKeysStore: KeysStore;
    e2eeCrossSigningStore: CrossSigningStore;
    e2eeDeviceLists: DeviceListsService;
    e2eeKeyCounts: KeyCountsCache;
    devices: () => DeviceDirectory;
    serverName: string;
  }) {
    this.keys = deps.e2eeKeysStore;
    this.crossSigning = deps.e2eeCrossSigningStore;
    this.deviceLists = deps.e2eeDeviceLists;
    this.counts = deps.e2eeKeyCounts;
    this.devices = deps.devices;
    this.serverName = deps.serverName;
  }

  async upload(userId: string, deviceId: string, body: UploadRequest): Promise<Record<string, number>> {
    let ed25519 = (await this.keys.deviceKeys(userId, deviceId))?.ed25519Key;
    if (body.device_keys !== undefined) {
      const dk = body.device_keys;
      if (dk['user_id'] !== userId || dk['device_id'] !== deviceId)
        throw invalid('user_id and device_id of device_keys must be those of the uploading device');
      const keys = dk['keys'];
      const signingKey = isRecord(keys) ? keys[`ed25519:${deviceId}`] : undefined;
      if (typeof signingKey !== 'string') throw invalid(`device_keys.keys has no ed25519:${deviceId} key`);
      if (!Array.isArray(dk['algorithms'])) throw invalid('device_keys.algorithms must be a list');
      if (!hasValidSignature(dk, userId, `ed25519:${deviceId}`, signingKey))
        throw badSignature('device_keys is not signed by its own ed25519 key');
      const stored = await this.keys.deviceKeys(userId, deviceId);
      const unchanged = stored && JSON.stringify(stored.keys) === JSON.stringify(dk);
      if (!unchanged) {
        await this.keys.setDeviceKeys(userId, deviceId, signingKey, dk);
        await this.deviceLists.deviceChanged(userId);
      }
      ed25519 = signingKey;
    }
    if (body.one_time_keys !== undefined) {
      const parsed = this.parseKeys(body.one_time_keys, userId, deviceId, ed25519, 'one_time_keys');
      const existing = await this.keys.existingOneTimeKeys(userId, deviceId, parsed);
      const fresh: NewKey[] = [];
      for (const k of parsed) {
        const id = `${k.algorithm}:${k.keyId}`;
        if (!existing.has(id)) fresh.push(k);
        else if (JSON.stringify(existing.get(id)) !== JSON.stringify(k.key))
          throw invalid(`One time key ${id} already exists with a different value`);
      }
      if (fresh.length > 0)
        await this.changingCounts(userId, [deviceId], () =>
          this.keys.addOneTimeKeys(userId, deviceId, fresh),
        );
    }
    if (body.fallback_keys !== undefined) {
      const parsed = this.parseKeys(body.fallback_keys, userId, deviceId, ed25519, 'fallback_keys');
      const perAlgorithm = new Map(parsed.map((k) => [k.algorithm, k]));
      await this.changingCounts(userId, [deviceId], () =>
        this.keys.setFallbackKeys(userId, deviceId, [...perAlgorithm.values()]),
      );
    }
    return this.oneTimeKeyCounts(userId, deviceId);
  }

  /**
   * Counts per algorithm; `signed_curve25519` is always present (clients read 0 as "upload more"). Served
   * from the KeyCountsCache: every /sync asks.
   */
  async oneTimeKeyCounts(userId: string, deviceId: string): Promise<Record<string, number>> {
    return { signed_curve25519: 0, ...(await this.counts.get(userId, deviceId)).oneTimeKeyCounts };
  }

  /** Algorithms whose fallback key is still unused, from the KeyCountsCache. */
  async unusedFallbackKeyTypes(userId: string, deviceId: string): Promise<string[]> {
    return [...(await this.counts.get(userId, deviceId)).unusedFallbackKeyTypes];
  }

  /**
   * Runs a write to one-time or fallback keys of these devices, then drops their cached counts: after the
   * write committed, and also when it failed (a chunked insert may have stored part of its rows).
   */
  private async changingCounts<T>(
    userId: string,
    deviceIds: readonly string[],
    write: () => Promise<T>,
  ): Promise<T> {
    try {
      return await write();
    } finally {
      for (const d of deviceIds) this.counts.invalidate(userId, d);
    }
  }

  /** `<algorithm>:<key id>` → key; signed keys must carry the device's signature. */
  private parseKeys(
    map: JsonRecord,
    userId: string,
    deviceId: string,
    ed25519: string | undefined,
    field: string,
  ): NewKey[] {
    const out: NewKey[] = [];
    for (const [name, key] of Object.entries(map)) {
      const colon = name.indexOf(':');
      if (colon <= 0 || colon === name.length - 1)
        throw invalid(`${field}: key name ${name} is not <algorithm>:<key id>`);
      const algorithm = name.slice(0, colon);
      const keyId = name.slice(colon + 1);
      if (isRecord(key)) {
        if (typeof key['key'] !== 'string') throw invalid(`${field}.${name}.key must be a string`);
        if (ed25519 === undefined)
          throw badSignature(`${field}.${name}: the device has no identity keys to verify it`);
        if (!hasValidSignature(key, userId, `ed25519:${deviceId}`, ed25519))
          throw badSignature(`${field}.${name} is not signed by the device`);
      } else if (typeof key !== 'string') {
        throw invalid(`${field}.${name} must be a string or a signed key object`);
      }
      out.push({ algorithm, keyId, key });
    }
    return out;
  }

  async query(requester: string, request: Readonly<Record<string, readonly string[]>>): Promise<QueryResult> {
    const result: QueryResult = {
      device_keys: {},
      master_keys: {},
      self_signing_keys: {},
      user_signing_keys: {},
      failures: {},
    };
    for (const [userId, deviceIds] of Object.entries(request)) {
      const server = serverNameOf(userId);
      if (server !== this.serverName) {
        if (server !== undefined)
          result.failures[server] = { status: 503, message: 'Federation is not available' };
        continue;
      }
      result.device_keys[userId] = await this.devicesOf(userId, deviceIds);
      const cross = await this.crossSigning.keysOf(userId);
      const visible = (type: CrossSigningKeyType) => cross.get(type);
      const master = visible('master');
      if (master) {
        // Signatures on a master key: the owner's devices', and the requester's user-signing key's.
        const sigs = (await this.crossSigning.signaturesOn(userId, [master.publicKey])).filter(
          (s) => s.signerUserId === userId || s.signerUserId === requester,
        );
        result.master_keys[userId] = withSignatures(master.key, sigs.map(toExtra));
      }
      const selfSigning = visible('self_signing');
      if (selfSigning) result.self_signing_keys[userId] = selfSigning.key;
      const userSigning = visible('user_signing');
      if (userSigning && userId === requester) result.user_signing_keys[userId] = userSigning.key;
    }
    return result;
  }

  private async devicesOf(userId: string, deviceIds: readonly string[]): Promise<Record<string, JsonRecord>> {
    const [stored, devices] = await Promise.all([
      this.keys.deviceKeysOf(userId, deviceIds),
      this.devices().listDevices(userId),
    ]);
    const names = new Map(devices.map((d) => [d.deviceId, d.displayName]));
    const sigs = await this.crossSigning.signaturesOn(
      userId,
      stored.map((s) => s.deviceId),
    );
    const out: Record<string, JsonRecord> = {};
    for (const s of stored) {
      if (!names.has(s.deviceId)) continue; // keys of a device deleted meanwhile
      // Devices carry the owner's self-signing signatures; nobody else signs devices.
      const extra = sigs
        .filter((x) => x.targetKeyId === s.deviceId && x.signerUserId === userId)
        .map(toExtra);
      const name = names.get(s.deviceId);
      out[s.deviceId] = {
        ...withSignatures(s.keys, extra),
        unsigned: name !== null && name !== undefined ? { device_display_name: name } : {},
      };
    }
    return out;
  }

  async claim(request: Readonly<Record<string, Readonly<Record<string, string>>>>): Promise<{
    one_time_keys: Record<string, Record<string, JsonRecord>>;
    failures: Record<string, JsonRecord>;
  }> {
    const oneTimeKeys: Record<string, Record<string, JsonRecord>> = {};
    const failures: Record<string, JsonRecord> = {};
    for (const [userId, devices] of Object.entries(request)) {
      const server = serverNameOf(userId);
      if (server !== this.serverName) {
        if (server !== undefined) failures[server] = { status: 503, message: 'Federation is not available' };
        continue;
      }
      for (const [deviceId, algorithm] of Object.entries(devices)) {
        const claimed = await this.changingCounts(
          userId,
          [deviceId],
          async () =>
            (await this.keys.claimOneTimeKey(userId, deviceId, algorithm)) ??
            (await this.keys.useFallbackKey(userId, deviceId, algorithm)),
        );
        if (!claimed) continue;
        ((oneTimeKeys[userId] ??= {})[deviceId] ??= {})[`${claimed.algorithm}:${claimed.keyId}`] =
          claimed.key;
      }
    }
    return { one_time_keys: oneTimeKeys, failures };
  }

  /** A device is gone: its keys and the signatures on it go too, and its user's peers are told. */
  async devicesDeleted(userId: string, deviceIds: readonly string[]): Promise<void> {
    await this.changingCounts(userId, deviceIds, () => this.keys.deleteDevices(userId, deviceIds));
    await this.crossSigning.deleteSignaturesOn(userId, deviceIds);
    await this.deviceLists.deviceChanged(userId);
  }
}

function toExtra(s: StoredSignature): { signer: string; keyId: string; signature: string } {
  return { signer: s.signerUserId, keyId: s.signerKeyId, signature: s.signature };
}
