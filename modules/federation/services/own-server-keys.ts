/**
 * This server's published keys (`GET /_matrix/key/v2/server`): the current signing key under
 * `verify_keys`, retired keys (the rotation command's records and Synapse's `old_signing_keys`) under
 * `old_verify_keys`, valid for `key_refresh_interval`, signed. The signed response is reused until half
 * of its validity has passed.
 */
import { decodeBase64, encodeBase64 } from '../../../core/protocol/base64.js';
import type { SigningKey } from '../../../core/protocol/signing-key.js';
import { signJson } from '../../../core/protocol/signing.js';
import type { ServerVerifyKey } from '../api.js';
import type { FederationStore, OldSigningKey } from '../store/federation-store.js';

export interface KeyResponse extends Record<string, unknown> {
  server_name: string;
  valid_until_ts: number;
  verify_keys: Record<string, { key: string }>;
  old_verify_keys: Record<string, { key: string; expired_ts: number }>;
  signatures: Record<string, Record<string, string>>;
}

export class OwnServerKeys {
  private cached: { response: KeyResponse; refreshAt: number } | undefined;
  private oldKeys: OldSigningKey[] = [];

  constructor(
    private readonly deps: {
      serverName: string;
      signingKey: SigningKey;
      store: FederationStore;
      configuredOldKeys: Readonly<Record<string, { key: string; expired_ts: number }>>;
      refreshIntervalMs: number;
      now?: () => number;
    },
  ) {}

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  /** Reads the retired keys (at start; the rotation command runs while the server is stopped). */
  async load(): Promise<void> {
    const fromConfig = Object.entries(this.deps.configuredOldKeys).map(([keyId, k]) => ({
      keyId,
      verifyKey: k.key.replace(/=+$/, ''),
      expiredTs: k.expired_ts,
    }));
    const fromDb = await this.deps.store.oldSigningKeys();
    const byId = new Map<string, OldSigningKey>();
    for (const key of [...fromDb, ...fromConfig])
      if (key.keyId !== this.deps.signingKey.keyId) byId.set(key.keyId, key);
    this.oldKeys = [...byId.values()];
    this.cached = undefined;
  }

  response(): KeyResponse {
    const now = this.now();
    if (this.cached && this.cached.refreshAt > now) return this.cached.response;
    const { serverName, signingKey, refreshIntervalMs } = this.deps;
    const unsigned = {
      server_name: serverName,
      valid_until_ts: now + refreshIntervalMs,
      verify_keys: { [signingKey.keyId]: { key: encodeBase64(signingKey.publicKey) } },
      old_verify_keys: Object.fromEntries(
        this.oldKeys.map((k) => [k.keyId, { key: k.verifyKey, expired_ts: k.expiredTs }]),
      ),
    };
    const response = signJson(unsigned, serverName, signingKey) as KeyResponse;
    this.cached = { response, refreshAt: now + refreshIntervalMs / 2 };
    return response;
  }

  /** One of our own keys, current or retired, as the key ring reports keys. */
  verifyKey(keyId: string): ServerVerifyKey | undefined {
    const { serverName, signingKey } = this.deps;
    if (keyId === signingKey.keyId) {
      return {
        serverName,
        keyId,
        publicKey: signingKey.publicKey,
        validUntilTs: Number.MAX_SAFE_INTEGER,
        expired: false,
      };
    }
    const old = this.oldKeys.find((k) => k.keyId === keyId);
    const publicKey = old ? decodeBase64(old.verifyKey) : undefined;
    if (!old || !publicKey) return undefined;
    return { serverName, keyId, publicKey, validUntilTs: old.expiredTs, expired: true };
  }
}
